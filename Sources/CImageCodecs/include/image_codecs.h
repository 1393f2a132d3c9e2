#ifndef IMAGE_CODECS_H
#define IMAGE_CODECS_H
/* Placeholder: filled by the image IO work. */
int image_codecs_placeholder(void);
#endif
