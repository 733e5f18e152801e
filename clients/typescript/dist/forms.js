/**
 * The same request in the two dialects this client speaks: the function's own route, and Pixian's.
 * Field names and value types come from openapi.yaml (src/api.ts, which `npm run build` and `npm test`
 * generate first), so a field the document does not have, or a value it does not allow, fails to compile.
 */
export const OWN_ROUTE = "/remove-background";
function imageBlob(image, contentType) {
    return image instanceof Blob ? image : new Blob([image], { type: contentType });
}
/** Our route: the image as the `image` part, options as fields named as openapi.yaml has them. */
export function ownForm(image, options, filename, contentType) {
    const form = new FormData();
    form.append("image", imageBlob(image, contentType), filename);
    const fields = {
        format: options.format,
        quality: options.quality,
        bg_color: options.bgColor,
        crop: options.crop,
        margin: options.margin,
        only_mask: options.onlyMask,
        max_pixels: options.maxPixels,
    };
    appendDefined(form, fields);
    return form;
}
/** Why Pixian cannot make this output, or undefined when it can. */
export function pixianCannot(options) {
    if (options.format === "webp") {
        return "Pixian does not write WebP";
    }
    if (options.onlyMask) {
        return "Pixian does not return the mask alone";
    }
    return undefined;
}
/** Pixian's route: its own field names for the same options. */
export function pixianForm(image, options, filename, contentType, test) {
    const form = new FormData();
    form.append("image", imageBlob(image, contentType), filename);
    const fields = {
        test: test || undefined,
        "output.format": options.format,
        "output.jpeg_quality": options.quality,
        "background.color": options.bgColor,
        "result.crop_to_foreground": options.crop,
        "result.margin": options.margin,
        max_pixels: options.maxPixels,
    };
    appendDefined(form, fields);
    return form;
}
function appendDefined(form, fields) {
    for (const [name, value] of Object.entries(fields)) {
        if (value !== undefined) {
            form.append(name, String(value));
        }
    }
}
