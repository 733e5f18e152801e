// Posts a file to a URL with axios, as the bot's worker does, and prints what came back as JSON:
// {"status": N, "data": ...} for any HTTP answer, {"error": "ECONNRESET"} when there was none.
import { readFileSync } from "node:fs";
import axios from "axios";

const [url, path] = process.argv.slice(2);
const body = readFileSync(path);
try {
  const response = await axios.post(url, body, {
    headers: { "Content-Type": "application/octet-stream" },
    maxBodyLength: Infinity,
    maxContentLength: Infinity,
    timeout: 60000,
    validateStatus: () => true,
  });
  console.log(JSON.stringify({ status: response.status, data: response.data }));
} catch (error) {
  console.log(JSON.stringify({ error: error.code ?? String(error) }));
}
