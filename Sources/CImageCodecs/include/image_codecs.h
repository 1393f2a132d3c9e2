#ifndef IMAGE_CODECS_H
#define IMAGE_CODECS_H
/*
 * Small C wrappers around libjpeg-turbo and libpng for SegData's ImageIO.
 *
 * Every function here catches the libraries' errors with setjmp inside C and returns a status,
 * so that no corrupt input can abort the process or longjmp through Swift frames.
 * Decoders work on bytes already in memory; Swift does the file IO (for clear file errors).
 * Functions return 0 on success and nonzero on failure, with a message in the out struct.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IC_ERROR_CAPACITY 256

/* Why a decoder failed (ic_image.failure): corrupt or truncated data, a header claiming more pixels than
   the decoders accept, or no memory for a size they do accept. */
enum { IC_FAILURE_CORRUPT = 0, IC_FAILURE_TOO_LARGE = 1, IC_FAILURE_OUT_OF_MEMORY = 2 };

/* A decoded image. All pointers are malloc'd and owned by the struct: release with ic_image_free. */
typedef struct ic_image {
    int width;
    int height;
    /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. For palette PNGs: 3 (the palette expanded to RGB). */
    int channels;
    /* Bits per stored sample: 8 (one byte each) or 16 (native-endian uint16_t each). */
    int bit_depth;
    /* Bit depth in the file (1, 2, 4, 8 or 16). Samples of 1/2/4-bit gray files are stored
       unscaled in bytes (a 1-bit file gives 0 and 1), so label files keep their values. */
    int source_bit_depth;
    /* width * height * channels samples, row-major, channels interleaved. */
    uint8_t *pixels;
    /* Palette PNGs only (else NULL / 0): the raw index of each pixel (width * height bytes)
       and the palette as RGB triples (palette_count entries). */
    uint8_t *indices;
    uint8_t *palette;
    int palette_count;
    /* JPEG only: EXIF orientation 1...8 from the APP1 segment, 1 when absent or unreadable. */
    int orientation;
    /* After a failed decode: one of IC_FAILURE_*, with a message in `error`. */
    int failure;
    char error[IC_ERROR_CAPACITY];
} ic_image;

/* An encoded file in memory; release with ic_buffer_free. */
typedef struct ic_buffer {
    uint8_t *data;
    size_t size;
    size_t capacity;
    char error[IC_ERROR_CAPACITY];
} ic_buffer;

/* Zero-initialises `image` and decodes a JPEG. Gray JPEGs give 1 channel, all others 3 (RGB;
   CMYK/YCCK converted). Truncated or corrupt scan data is an error (libjpeg's "Premature end of
   JPEG file" and "Corrupt JPEG data" warnings are treated as errors). */
int ic_decode_jpeg(const uint8_t *data, size_t size, ic_image *image);

/* Zero-initialises `image` and decodes a PNG of any colour type and bit depth, without changing
   sample values (no alpha removal, no 16-to-8 reduction: the caller decides). Palette PNGs give
   RGB pixels plus the raw indices and the palette. Truncated data is an error. */
int ic_decode_png(const uint8_t *data, size_t size, ic_image *image);

/* Encodes 8-bit samples as a PNG into `out` (zero-initialised here).
   channels 1 with palette == NULL: gray. channels 3: RGB.
   channels 1 with a palette of palette_count RGB triples (1...256): palette PNG whose pixels are
   indices; an index >= palette_count is an error. */
int ic_encode_png(const uint8_t *pixels, int width, int height, int channels,
                  const uint8_t *palette, int palette_count, ic_buffer *out);

/* The EXIF orientation (1...8) in a JPEG APP1 payload ("Exif\0\0" + TIFF), or 0 if there is none
   or the payload is malformed. Bounds-checked: any byte string is safe. */
int ic_exif_orientation(const uint8_t *app1, size_t size);

void ic_image_free(ic_image *image);
void ic_buffer_free(ic_buffer *buffer);

#ifdef __cplusplus
}
#endif
#endif
