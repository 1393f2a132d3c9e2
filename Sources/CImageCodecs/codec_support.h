/* Helpers shared by the codec files; not part of the public header. */
#ifndef IMAGE_CODECS_SUPPORT_H
#define IMAGE_CODECS_SUPPORT_H
#include "image_codecs.h"

/* Decoded images larger than this many bytes are refused: a corrupt header can claim
   billions of pixels, and we would rather report that than try to allocate it. */
#define IC_MAX_IMAGE_BYTES ((size_t)1 << 31)

/* Writes a printf-style message into an IC_ERROR_CAPACITY buffer. */
void ic_set_error(char *error, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* malloc of width * height * samples_per_pixel * bytes_per_sample for `image`, or NULL when the size is
   zero, overflows or exceeds IC_MAX_IMAGE_BYTES, or malloc fails (with image->failure and image->error set). */
void *ic_alloc_pixels(int width, int height, int samples_per_pixel, int bytes_per_sample, ic_image *image);

#endif
