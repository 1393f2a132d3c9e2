/* JPEG decoding with libjpeg-turbo. libjpeg reports fatal errors through error_exit, which must
   not return: we longjmp back into ic_decode_jpeg and turn the message into an error string. */
#include "codec_support.h"

#include <setjmp.h>
#include <stdio.h>  /* jpeglib.h needs FILE and size_t */
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

typedef struct {
    struct jpeg_error_mgr base;  /* first member: libjpeg hands us a pointer to it */
    jmp_buf jump;
    char *error;
} jpeg_guard;

static void guard_error_exit(j_common_ptr cinfo) {
    jpeg_guard *guard = (jpeg_guard *)cinfo->err;
    char message[JMSG_LENGTH_MAX];
    guard->base.format_message(cinfo, message);
    ic_set_error(guard->error, "%s", message);
    longjmp(guard->jump, 1);
}

/* Warnings about metadata only; the pixels are still right, and common camera files carry them. */
static int warning_is_harmless(int code) {
    switch (code) {
    case JWRN_ADOBE_XFORM:
    case JWRN_EXTRANEOUS_DATA:
    case JWRN_JFIF_MAJOR:
    case JWRN_BOGUS_ICC:
        return 1;
    default:
        return 0;
    }
}

/* Level -1 is a warning; libjpeg goes on after one with made-up data (a truncated file gets a
   fake end marker and grey rows), so every other warning is treated as a fatal error. */
static void guard_emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;  /* trace messages */
    if (warning_is_harmless(cinfo->err->msg_code)) {
        cinfo->err->num_warnings++;
        return;
    }
    guard_error_exit(cinfo);
}

static void read_orientation(j_decompress_ptr cinfo, ic_image *image) {
    for (jpeg_saved_marker_ptr marker = cinfo->marker_list; marker != NULL; marker = marker->next) {
        if (marker->marker != JPEG_APP0 + 1) continue;
        int orientation = ic_exif_orientation(marker->data, marker->data_length);
        if (orientation != 0) {
            image->orientation = orientation;
            return;
        }
    }
}

/* CMYK to RGB as Pillow does it. Adobe files store inverted CMYK, so there R = C' * K' / 255. */
static void cmyk_row_to_rgb(const JSAMPLE *cmyk, uint8_t *rgb, JDIMENSION width, int inverted) {
    for (JDIMENSION x = 0; x < width; x++) {
        const JSAMPLE *p = cmyk + 4 * x;
        unsigned k = inverted ? p[3] : 255u - p[3];
        for (int c = 0; c < 3; c++) {
            unsigned v = inverted ? p[c] : 255u - p[c];
            rgb[3 * x + c] = (uint8_t)((v * k + 127) / 255);
        }
    }
}

int ic_decode_jpeg(const uint8_t *data, size_t size, ic_image *image) {
    memset(image, 0, sizeof *image);
    image->orientation = 1;
    struct jpeg_decompress_struct cinfo;
    memset(&cinfo, 0, sizeof cinfo);
    jpeg_guard guard;
    cinfo.err = jpeg_std_error(&guard.base);
    guard.base.error_exit = guard_error_exit;
    guard.base.emit_message = guard_emit_message;
    guard.error = image->error;

    /* Everything allocated after this point is owned by cinfo or image, both reached through
       memory rather than registers, so their values survive the longjmp. */
    if (setjmp(guard.jump)) goto fail;

    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);
    read_orientation(&cinfo, image);

    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    if (cinfo.jpeg_color_space == JCS_GRAYSCALE) cinfo.out_color_space = JCS_GRAYSCALE;
    else if (cmyk) cinfo.out_color_space = JCS_CMYK;  /* libjpeg has no CMYK to RGB conversion */
    else cinfo.out_color_space = JCS_RGB;
    int channels = cinfo.out_color_space == JCS_GRAYSCALE ? 1 : 3;

    /* Check the size before jpeg_start_decompress, which allocates whole-image buffers for
       progressive files. */
    image->pixels = ic_alloc_pixels((int)cinfo.image_width, (int)cinfo.image_height, channels, 1, image);
    if (image->pixels == NULL) goto fail;

    jpeg_start_decompress(&cinfo);
    image->width = (int)cinfo.output_width;
    image->height = (int)cinfo.output_height;
    image->channels = channels;
    image->bit_depth = 8;
    image->source_bit_depth = 8;
    size_t stride = (size_t)image->width * (size_t)channels;
    JSAMPARRAY cmyk_row = NULL;
    if (cmyk) {
        cmyk_row = (*cinfo.mem->alloc_sarray)((j_common_ptr)&cinfo, JPOOL_IMAGE, cinfo.output_width * 4, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *dest = image->pixels + (size_t)cinfo.output_scanline * stride;
        if (cmyk) {
            jpeg_read_scanlines(&cinfo, cmyk_row, 1);
            cmyk_row_to_rgb(cmyk_row[0], dest, cinfo.output_width, cinfo.saw_Adobe_marker);
        } else {
            JSAMPROW row = dest;
            jpeg_read_scanlines(&cinfo, &row, 1);
        }
    }
    /* Reads up to the end marker, so a file cut after the last scanline is still an error. */
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return 0;

fail:
    jpeg_destroy_decompress(&cinfo);
    ic_image_free(image);
    return 1;
}
