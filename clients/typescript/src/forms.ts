/**
 * The same request in the two dialects this client speaks: the function's own route, and Pixian's.
 * Field names and value types come from openapi.yaml (src/api.ts, which `npm run build` and `npm test`
 * generate first), so a field the document does not have, or a value it does not allow, fails to compile.
 */

import type { components } from "./api.js";

type Schemas = components["schemas"];
type FieldsOf<T> = { [K in keyof T]?: string | number | boolean };

export type ImageInput = Uint8Array | ArrayBuffer | Blob;

export interface OutputOptions {
  /** png (default), webp (lossless unless `quality`), jpeg (on white unless `bgColor`), auto. */
  format?: Exclude<Schemas["OwnFormat"], "jpg" | "delta_png" | "zip">;
  /** JPEG or lossy WebP quality, 1..100. */
  quality?: Schemas["Quality"];
  /** #RGB, #RRGGBB, #RRGGBBAA or a CSS colour name. */
  bgColor?: Schemas["Color"];
  /** Crop to the foreground's bounding box. */
  crop?: boolean;
  /** 1 to 4 CSS-like lengths in px or %: "10px", "5% 10px". */
  margin?: Schemas["Margin"];
  /** The alpha alone, as a grayscale image. */
  onlyMask?: boolean;
  /** At most this many output pixels. */
  maxPixels?: Schemas["MaxPixels"];
}

/** Pixian's output.format for ours: the same names where Pixian has the format. */
type PixianFormat = NonNullable<Schemas["PixianFields"]["output.format"]>;

export const OWN_ROUTE = "/remove-background";

function imageBlob(image: ImageInput, contentType: string): Blob {
  return image instanceof Blob ? image : new Blob([image as ArrayBuffer], { type: contentType });
}

/** Our route: the image as the `image` part, options as fields named as openapi.yaml has them. */
export function ownForm(image: ImageInput, options: OutputOptions, filename: string, contentType: string): FormData {
  const form = new FormData();
  form.append("image", imageBlob(image, contentType), filename);
  const fields: FieldsOf<Schemas["OwnOptions"]> = {
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
export function pixianCannot(options: OutputOptions): string | undefined {
  if (options.format === "webp") {
    return "Pixian does not write WebP";
  }
  if (options.onlyMask) {
    return "Pixian does not return the mask alone";
  }
  return undefined;
}

/** Pixian's route: its own field names for the same options. */
export function pixianForm(
  image: ImageInput,
  options: OutputOptions,
  filename: string,
  contentType: string,
  test: boolean,
): FormData {
  const form = new FormData();
  form.append("image", imageBlob(image, contentType), filename);
  const fields: FieldsOf<Schemas["PixianFields"]> = {
    test: test || undefined,
    "output.format": options.format satisfies PixianFormat | "webp" | undefined,
    "output.jpeg_quality": options.quality,
    "background.color": options.bgColor,
    "result.crop_to_foreground": options.crop,
    "result.margin": options.margin,
    max_pixels: options.maxPixels,
  };
  appendDefined(form, fields);
  return form;
}

function appendDefined(form: FormData, fields: Record<string, string | number | boolean | undefined>): void {
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) {
      form.append(name, String(value));
    }
  }
}
