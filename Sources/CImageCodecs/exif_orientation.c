/* EXIF orientation from a JPEG APP1 payload, parsed by hand: libjpeg hands us the raw marker and
   only one tag (0x0112 in IFD0) is needed, which does not justify a dependency on libexif. */
#include "image_codecs.h"

#include <string.h>

static unsigned read16(const uint8_t *p, int big_endian) {
    return big_endian ? (unsigned)(p[0] << 8 | p[1]) : (unsigned)(p[1] << 8 | p[0]);
}

static uint32_t read32(const uint8_t *p, int big_endian) {
    return big_endian ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
                      : ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
}

int ic_exif_orientation(const uint8_t *app1, size_t size) {
    static const uint8_t exif_id[6] = {'E', 'x', 'i', 'f', 0, 0};
    if (app1 == NULL || size < 6 + 8 || memcmp(app1, exif_id, 6) != 0) return 0;
    const uint8_t *tiff = app1 + 6;  /* offsets below are relative to the TIFF header */
    size_t tiff_size = size - 6;

    int big_endian;
    if (tiff[0] == 'M' && tiff[1] == 'M') big_endian = 1;
    else if (tiff[0] == 'I' && tiff[1] == 'I') big_endian = 0;
    else return 0;
    if (read16(tiff + 2, big_endian) != 42) return 0;

    uint32_t ifd = read32(tiff + 4, big_endian);
    if (ifd > tiff_size || tiff_size - ifd < 2) return 0;
    unsigned entries = read16(tiff + ifd, big_endian);
    for (unsigned i = 0; i < entries; i++) {
        size_t entry = (size_t)ifd + 2 + (size_t)i * 12;
        if (entry + 12 > tiff_size) return 0;
        const uint8_t *e = tiff + entry;
        if (read16(e, big_endian) != 0x0112) continue;
        /* Orientation is one SHORT (type 3) stored in the first two bytes of the value field. */
        if (read16(e + 2, big_endian) != 3 || read32(e + 4, big_endian) != 1) return 0;
        unsigned value = read16(e + 8, big_endian);
        return (value >= 1 && value <= 8) ? (int)value : 0;
    }
    return 0;
}
