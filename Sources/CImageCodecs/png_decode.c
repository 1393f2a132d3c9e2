/* PNG decoding with libpng, reading from memory. Sample values are kept as stored (sub-byte
   samples unpacked but not rescaled, 16-bit kept), because label files need the raw values;
   ImageIO converts for display images. */
#include "codec_support.h"
#include "png_callbacks.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t position;
} png_reader;

static void read_from_memory(png_structp png, png_bytep out, size_t length) {
    png_reader *reader = (png_reader *)png_get_io_ptr(png);
    if (length > reader->size - reader->position) png_error(png, "unexpected end of data (file truncated)");
    memcpy(out, reader->data + reader->position, length);
    reader->position += length;
}

/* Expands palette indices to RGB; indices past the palette (invalid, but seen) become black. */
static void expand_palette(ic_image *image) {
    size_t count = (size_t)image->width * (size_t)image->height;
    for (size_t i = 0; i < count; i++) {
        int index = image->indices[i];
        uint8_t *rgb = image->pixels + 3 * i;
        if (index < image->palette_count) memcpy(rgb, image->palette + 3 * index, 3);
        else memset(rgb, 0, 3);
    }
}

static void copy_palette(png_structp png, png_infop info, ic_image *image) {
    png_colorp colors = NULL;
    int count = 0;
    if (!png_get_PLTE(png, info, &colors, &count) || count <= 0) png_error(png, "palette image without a palette");
    image->palette = (uint8_t *)malloc((size_t)count * 3);
    if (image->palette == NULL) png_error(png, "out of memory");
    for (int i = 0; i < count; i++) {
        image->palette[3 * i] = colors[i].red;
        image->palette[3 * i + 1] = colors[i].green;
        image->palette[3 * i + 2] = colors[i].blue;
    }
    image->palette_count = count;
}

int ic_decode_png(const uint8_t *data, size_t size, ic_image *image) {
    memset(image, 0, sizeof *image);
    image->orientation = 1;
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        ic_set_error(image->error, "not a PNG file");
        return 1;
    }
    png_reader reader = {data, size, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, image->error, ic_png_error, ic_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        image->failure = IC_FAILURE_OUT_OF_MEMORY;
        ic_set_error(image->error, "out of memory");
        return 1;
    }
    /* volatile: assigned after setjmp and needed by the error path */
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        ic_image_free(image);
        return 1;
    }

    png_set_read_fn(png, &reader, read_from_memory);
    png_read_info(png, info);
    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, NULL, NULL, NULL);
    int is_palette = color_type == PNG_COLOR_TYPE_PALETTE;
    if (bit_depth < 8) png_set_packing(png);  /* one byte per sample, value unchanged */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (bit_depth == 16) png_set_swap(png);  /* PNG is big-endian; we hand out native uint16 */
#endif
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    int bytes_per_sample = bit_depth == 16 ? 2 : 1;
    uint8_t *samples = ic_alloc_pixels((int)width, (int)height, channels, bytes_per_sample, image);
    if (samples == NULL) png_error(png, image->error);
    if (is_palette) image->indices = samples;
    else image->pixels = samples;
    image->width = (int)width;
    image->height = (int)height;
    image->channels = is_palette ? 3 : channels;
    image->bit_depth = bit_depth == 16 ? 16 : 8;
    image->source_bit_depth = bit_depth;

    rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
    if (rows == NULL) {
        image->failure = IC_FAILURE_OUT_OF_MEMORY;
        png_error(png, "out of memory");
    }
    size_t stride = (size_t)width * (size_t)channels * (size_t)bytes_per_sample;
    for (png_uint_32 y = 0; y < height; y++) rows[y] = samples + y * stride;
    png_read_image(png, rows);
    /* Reads the chunks after the image data, so a file cut before IEND is an error too. */
    png_read_end(png, NULL);

    if (is_palette) {
        copy_palette(png, info, image);
        image->pixels = ic_alloc_pixels(image->width, image->height, 3, 1, image);
        if (image->pixels == NULL) png_error(png, image->error);
        expand_palette(image);
    }
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}
