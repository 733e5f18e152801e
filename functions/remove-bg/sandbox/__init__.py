"""Upload parsing and image decoding in a process the kernel holds to a memory and time limit.

Every guard in front of a decoder predicts a cost from a header, and a file no prediction
foresaw (a progressive JPEG of 500 scans, a 30 MB run of empty segments, a JSON body of ten
million objects) is unbounded in the process that holds the model. So the work that touches an
upload's bytes (multipart, base64, JSON, Image.open, decoding, converting, scaling) runs in a
worker forked per request from a small, single-threaded zygote (zygote.py) that never loads a
model: the worker sets RLIMIT_AS, RLIMIT_CPU and a real-time timer on itself before reading the
body, so a breach ends the worker, not the pod. The decoded picture comes back in shared memory
(shared.py), mapped, not copied; the model's process (decoder.py) answers a breach with a 4xx
that names the limit and forks the next worker as if nothing happened.
"""
