/**
 * The same request in the two dialects this client speaks: the function's own route, and Pixian's.
 * Field names and value types come from openapi.yaml (src/api.ts, which `npm run build` and `npm test`
 * generate first), so a field the document does not have, or a value it does not allow, fails to compile.
 */
import type { components } from "./api.js";
type Schemas = components["schemas"];
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
export declare const OWN_ROUTE = "/remove-background";
/** Our route: the image as the `image` part, options as fields named as openapi.yaml has them. */
export declare function ownForm(image: ImageInput, options: OutputOptions, filename: string, contentType: string): FormData;
/** Why Pixian cannot make this output, or undefined when it can. */
export declare function pixianCannot(options: OutputOptions): string | undefined;
/** Pixian's route: its own field names for the same options. */
export declare function pixianForm(image: ImageInput, options: OutputOptions, filename: string, contentType: string, test: boolean): FormData;
export {};
