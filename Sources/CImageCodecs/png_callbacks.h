/* libpng error and warning callbacks shared by the PNG decoder and encoder. */
#ifndef IMAGE_CODECS_PNG_CALLBACKS_H
#define IMAGE_CODECS_PNG_CALLBACKS_H
#include <png.h>

/* Copies the message into the char[IC_ERROR_CAPACITY] given as libpng's error pointer and
   longjmps to png_jmpbuf, instead of libpng's default of printing to stderr first. */
void ic_png_error(png_structp png, png_const_charp message);

/* Ignores warnings: libpng only warns about things it has recovered from (bad ancillary chunks). */
void ic_png_warning(png_structp png, png_const_charp message);

#endif
