#include "png_callbacks.h"

#include "codec_support.h"

void ic_png_error(png_structp png, png_const_charp message) {
    char *error = (char *)png_get_error_ptr(png);
    if (error != NULL && message != error) ic_set_error(error, "%s", message);
    png_longjmp(png, 1);
}

void ic_png_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}
