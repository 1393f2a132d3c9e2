/* PNG encoding with libpng into a growing memory buffer; ImageIO writes the file. */
#include "codec_support.h"
#include "png_callbacks.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

static void write_to_buffer(png_structp png, png_bytep data, size_t length) {
    ic_buffer *buffer = (ic_buffer *)png_get_io_ptr(png);
    if (length > buffer->capacity - buffer->size) {
        size_t capacity = buffer->capacity ? buffer->capacity * 2 : 4096;
        if (capacity < buffer->size + length) capacity = buffer->size + length;
        uint8_t *grown = (uint8_t *)realloc(buffer->data, capacity);
        if (grown == NULL) png_error(png, "out of memory");
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->size, data, length);
    buffer->size += length;
}

static void flush_buffer(png_structp png) { (void)png; }

/* Checked before libpng sees the data: libpng would accept out-of-palette indices. */
static int validate(const uint8_t *pixels, int width, int height, int channels,
                    const uint8_t *palette, int palette_count, char *error) {
    if (pixels == NULL || width <= 0 || height <= 0) {
        ic_set_error(error, "invalid image size %dx%d", width, height);
        return 1;
    }
    if (channels != 1 && channels != 3) {
        ic_set_error(error, "PNG encoding supports 1 or 3 channels, got %d", channels);
        return 1;
    }
    if (palette == NULL) return 0;
    if (channels != 1 || palette_count < 1 || palette_count > 256) {
        ic_set_error(error, "a palette PNG needs 1 channel and 1...256 palette entries, got %d channels and %d entries",
                     channels, palette_count);
        return 1;
    }
    size_t count = (size_t)width * (size_t)height;
    for (size_t i = 0; i < count; i++) {
        if (pixels[i] >= palette_count) {
            ic_set_error(error, "index %d has no palette entry (palette has %d)", pixels[i], palette_count);
            return 1;
        }
    }
    return 0;
}

int ic_encode_png(const uint8_t *pixels, int width, int height, int channels,
                  const uint8_t *palette, int palette_count, ic_buffer *out) {
    memset(out, 0, sizeof *out);
    if (validate(pixels, width, height, channels, palette, palette_count, out->error) != 0) return 1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, out->error, ic_png_error, ic_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        ic_set_error(out->error, "out of memory");
        return 1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        ic_buffer_free(out);
        return 1;
    }

    png_set_write_fn(png, out, write_to_buffer, flush_buffer);
    int color_type = palette ? PNG_COLOR_TYPE_PALETTE : (channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette) {
        png_color colors[256];
        for (int i = 0; i < palette_count; i++) {
            colors[i].red = palette[3 * i];
            colors[i].green = palette[3 * i + 1];
            colors[i].blue = palette[3 * i + 2];
        }
        png_set_PLTE(png, info, colors, palette_count);
    }
    png_write_info(png, info);
    size_t stride = (size_t)width * (size_t)channels;
    for (int y = 0; y < height; y++) png_write_row(png, pixels + (size_t)y * stride);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return 0;
}
