#include "codec_support.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ic_set_error(char *error, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(error, IC_ERROR_CAPACITY, format, args);
    va_end(args);
}

void *ic_alloc_pixels(int width, int height, int samples_per_pixel, int bytes_per_sample, ic_image *image) {
    if (width <= 0 || height <= 0) {
        image->failure = IC_FAILURE_CORRUPT;
        ic_set_error(image->error, "invalid image size %dx%d", width, height);
        return NULL;
    }
    size_t bytes = (size_t)width * (size_t)height;
    size_t per_pixel = (size_t)samples_per_pixel * (size_t)bytes_per_sample;
    if (bytes > IC_MAX_IMAGE_BYTES / per_pixel) {
        image->failure = IC_FAILURE_TOO_LARGE;
        ic_set_error(image->error, "%dx%d pixels (WxH) with %d bytes each: more than the %zu MiB the decoders accept",
                     width, height, (int)per_pixel, IC_MAX_IMAGE_BYTES >> 20);
        return NULL;
    }
    void *pixels = malloc(bytes * per_pixel);
    if (pixels == NULL) {
        image->failure = IC_FAILURE_OUT_OF_MEMORY;
        ic_set_error(image->error, "out of memory for a %dx%d image", width, height);
    }
    return pixels;
}

void ic_image_free(ic_image *image) {
    if (image == NULL) return;
    free(image->pixels);
    free(image->indices);
    free(image->palette);
    image->pixels = NULL;
    image->indices = NULL;
    image->palette = NULL;
}

void ic_buffer_free(ic_buffer *buffer) {
    if (buffer == NULL) return;
    free(buffer->data);
    buffer->data = NULL;
    buffer->size = 0;
    buffer->capacity = 0;
}
