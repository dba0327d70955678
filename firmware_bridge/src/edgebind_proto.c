/* edgebind serial protocol v2: implementation. See edgebind_proto.h and PROTOCOL.md. */
#include "edgebind_proto.h"

#include <string.h>

/* ---------------------------------------------------------------- little-endian helpers */
static void put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static void put_f32(uint8_t *p, float f) { uint32_t v; memcpy(&v, &f, 4); put_u32(p, v); }
static uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static float get_f32(const uint8_t *p) { uint32_t v = get_u32(p); float f; memcpy(&f, &v, 4); return f; }

/* ---------------------------------------------------------------- CRC-16/CCITT-FALSE */
uint16_t eb_crc16_update(uint16_t crc, uint8_t byte) {
    crc ^= (uint16_t)byte << 8;
    for (int i = 0; i < 8; i++) crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
    return crc;
}

uint16_t eb_crc16(const uint8_t *data, size_t len) {
    uint16_t crc = 0xFFFFu;
    for (size_t i = 0; i < len; i++) crc = eb_crc16_update(crc, data[i]);
    return crc;
}

/* ---------------------------------------------------------------- COBS */
/* Incremental COBS writer (as the cobs Python package encodes: a trailing full 0xFF block gets no empty block). */
typedef struct {
    uint8_t *out;
    size_t cap, pos, code_pos;
    uint8_t code; /* 0xFF: the last block is full and closed; the next byte opens a new one */
    int full;
} cobs_writer;

static void cw_init(cobs_writer *w, uint8_t *out, size_t cap) {
    w->out = out; w->cap = cap; w->pos = 1; w->code_pos = 0; w->code = 1; w->full = cap < 1;
}

static void cw_open(cobs_writer *w) {
    if (w->pos >= w->cap) { w->full = 1; return; }
    w->code_pos = w->pos++;
    w->code = 1;
}

static void cw_put(cobs_writer *w, uint8_t byte) {
    if (w->full) return;
    if (w->code == 0xFF) cw_open(w);
    if (w->full) return;
    if (byte == 0) {
        w->out[w->code_pos] = w->code;
        cw_open(w);
        return;
    }
    if (w->pos >= w->cap) { w->full = 1; return; }
    w->out[w->pos++] = byte;
    if (++w->code == 0xFF) w->out[w->code_pos] = 0xFF;
}

static size_t cw_finish(cobs_writer *w) {
    if (w->full) return 0;
    if (w->code != 0xFF) w->out[w->code_pos] = w->code;
    return w->pos;
}

size_t eb_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap) {
    cobs_writer w;
    cw_init(&w, dst, dst_cap);
    for (size_t i = 0; i < len; i++) cw_put(&w, src[i]);
    return cw_finish(&w);
}

long eb_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap) {
    size_t in = 0, out = 0;
    while (in < len) {
        uint8_t code = src[in++];
        if (code == 0) return -1;
        for (uint8_t i = 1; i < code; i++) {
            if (in >= len || src[in] == 0 || out >= dst_cap) return -1;
            dst[out++] = src[in++];
        }
        if (code != 0xFF && in < len) {
            if (out >= dst_cap) return -1;
            dst[out++] = 0;
        }
    }
    return (long)out;
}

/* ---------------------------------------------------------------- frames */
size_t eb_frame_encode(uint8_t type, uint16_t seq, uint32_t t_us, const uint8_t *body, size_t body_len,
                       uint8_t *out, size_t out_cap) {
    uint8_t head[EB_HEADER_SIZE];
    uint8_t crc_le[EB_CRC_SIZE];
    uint16_t crc = 0xFFFFu;
    cobs_writer w;
    size_t n, i;
    if (EB_HEADER_SIZE + body_len + EB_CRC_SIZE > EB_MAX_PAYLOAD || out_cap < 2) return 0;
    head[0] = EB_PROTOCOL_VERSION; head[1] = type; put_u16(head + 2, seq); put_u32(head + 4, t_us);
    cw_init(&w, out, out_cap - 1);
    for (i = 0; i < EB_HEADER_SIZE; i++) { crc = eb_crc16_update(crc, head[i]); cw_put(&w, head[i]); }
    for (i = 0; i < body_len; i++) { crc = eb_crc16_update(crc, body[i]); cw_put(&w, body[i]); }
    put_u16(crc_le, crc);
    cw_put(&w, crc_le[0]);
    cw_put(&w, crc_le[1]);
    n = cw_finish(&w);
    if (n == 0) return 0;
    out[n] = 0;
    return n + 1;
}

int eb_frame_decode(uint8_t *block, size_t len, eb_header *hdr, const uint8_t **body, size_t *body_len) {
    long n;
    if (len > EB_MAX_ENCODED) return EB_ERR_LENGTH;
    n = eb_cobs_decode(block, len, block, len);
    if (n < 0) return EB_ERR_COBS;
    if ((size_t)n < EB_HEADER_SIZE + EB_CRC_SIZE) return EB_ERR_LENGTH;
    if (eb_crc16(block, (size_t)n - EB_CRC_SIZE) != get_u16(block + n - EB_CRC_SIZE)) return EB_ERR_CRC;
    if (block[0] < EB_PROTOCOL_VERSION_MIN || block[0] > EB_PROTOCOL_VERSION) return EB_ERR_VERSION;
    hdr->version = block[0];
    hdr->type = block[1];
    hdr->seq = get_u16(block + 2);
    hdr->t_us = get_u32(block + 4);
    *body = block + EB_HEADER_SIZE;
    *body_len = (size_t)n - EB_HEADER_SIZE - EB_CRC_SIZE;
    return EB_OK;
}

/* ---------------------------------------------------------------- bodies */
static size_t put_lp_string(uint8_t *p, size_t cap, const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n > 255) n = 255;
    if (cap < n + 1) return 0;
    p[0] = (uint8_t)n;
    if (n) memcpy(p + 1, s, n);
    return n + 1;
}

size_t eb_build_info(uint8_t *body, size_t cap, const eb_info *info) {
    size_t pos = EB_INFO_FIXED_SIZE, k;
    const char *strings[3];
    if (cap < EB_INFO_FIXED_SIZE) return 0;
    put_f32(body, info->accel_lsb_mps2);
    put_f32(body + 4, info->gyro_lsb_rads);
    put_f32(body + 8, info->imu_rate_hz);
    put_f32(body + 12, info->thermal_rate_hz);
    put_u16(body + 16, info->accel_fs_g);
    put_u16(body + 18, info->gyro_fs_dps);
    body[20] = info->flags;
    body[21] = 0;
    strings[0] = info->firmware; strings[1] = info->imu_sensor; strings[2] = info->thermal_sensor;
    for (int i = 0; i < 3; i++) {
        k = put_lp_string(body + pos, cap - pos, strings[i]);
        if (k == 0) return 0;
        pos += k;
    }
    return pos;
}

size_t eb_build_info_seq(uint8_t *body, size_t cap, const eb_info *info, uint16_t imu_next_seq,
                         uint16_t thermal_next_seq) {
    size_t pos = eb_build_info(body, cap, info);
    if (pos == 0 || cap < pos + EB_INFO_COUNTERS_SIZE) return 0;
    put_u16(body + pos, imu_next_seq);
    put_u16(body + pos + 2, thermal_next_seq);
    return pos + EB_INFO_COUNTERS_SIZE;
}

static size_t info_strings_end(const uint8_t *body, size_t len) {
    size_t pos = EB_INFO_FIXED_SIZE;
    for (int i = 0; i < 3; i++) {
        if (pos >= len) return 0;
        pos += 1u + body[pos];
    }
    return pos <= len ? pos : 0;
}

int eb_info_next_seq(const uint8_t *body, size_t len, uint16_t *imu_next_seq, uint16_t *thermal_next_seq) {
    size_t pos = len >= EB_INFO_FIXED_SIZE ? info_strings_end(body, len) : 0;
    if (pos == 0 || pos + EB_INFO_COUNTERS_SIZE > len) return 0;
    *imu_next_seq = get_u16(body + pos);
    *thermal_next_seq = get_u16(body + pos + 2);
    return 1;
}

static size_t build_imu(uint8_t *body, size_t cap, uint8_t n, int has_gyro, uint16_t dt_us, const int16_t *counts,
                        int with_count, uint16_t thermal_count) {
    size_t channels = has_gyro ? 6u : 3u, head = EB_IMU_HEADER_SIZE + (with_count ? 2u : 0u);
    size_t len = head + (size_t)n * channels * 2u;
    if (n == 0 || cap < len) return 0;
    body[0] = n;
    body[1] = (uint8_t)((has_gyro ? EB_IMU_HAS_GYRO : 0u) | (with_count ? EB_IMU_HAS_THERMAL_COUNT : 0u));
    put_u16(body + 2, dt_us);
    if (with_count) put_u16(body + EB_IMU_HEADER_SIZE, thermal_count);
    for (size_t i = 0; i < (size_t)n * channels; i++) put_u16(body + head + 2 * i, (uint16_t)counts[i]);
    return len;
}

size_t eb_build_imu(uint8_t *body, size_t cap, uint8_t n, int has_gyro, uint16_t dt_us, const int16_t *counts) {
    return build_imu(body, cap, n, has_gyro, dt_us, counts, 0, 0);
}

size_t eb_build_imu_tc(uint8_t *body, size_t cap, uint8_t n, int has_gyro, uint16_t dt_us, const int16_t *counts,
                       uint16_t thermal_count) {
    return build_imu(body, cap, n, has_gyro, dt_us, counts, 1, thermal_count);
}

static size_t pixel_size(uint8_t encoding) {
    return encoding == EB_PIX_FLOAT32 ? 4u : (encoding == EB_PIX_INT16 || encoding == EB_PIX_UINT16) ? 2u : 0u;
}

size_t eb_build_thermal(uint8_t *body, size_t cap, const eb_thermal *th, const void *pixels) {
    size_t px = pixel_size(th->encoding), count = (size_t)th->width * th->height;
    size_t len = EB_THERMAL_HEADER_SIZE + count * px;
    if (px == 0 || count == 0 || cap < len) return 0;
    body[0] = th->sensor;
    body[1] = th->encoding;
    put_u16(body + 2, th->width);
    put_u16(body + 4, th->height);
    put_f32(body + 6, th->scale);
    put_f32(body + 10, th->offset);
    for (size_t i = 0; i < count; i++) {
        uint8_t *p = body + EB_THERMAL_HEADER_SIZE + i * px;
        if (th->encoding == EB_PIX_FLOAT32) put_f32(p, ((const float *)pixels)[i]);
        else put_u16(p, ((const uint16_t *)pixels)[i]); /* int16 and uint16 share the bit pattern */
    }
    return len;
}

size_t eb_build_log(uint8_t *body, size_t cap, uint8_t level, const char *text) {
    size_t n = strlen(text);
    if (cap < n + 1) return 0;
    body[0] = level;
    memcpy(body + 1, text, n);
    return n + 1;
}

size_t eb_build_command(uint8_t *body, size_t cap, const eb_command *cmd) {
    switch (cmd->type) {
    case EB_CMD_START:
        if (cap < 1) return 0;
        body[0] = cmd->stream_mask;
        return 1;
    case EB_CMD_SET_RATE:
        if (cap < 5) return 0;
        body[0] = cmd->stream;
        put_f32(body + 1, cmd->rate_hz);
        return 5;
    default:
        return 0; /* STOP and GET_INFO have empty bodies */
    }
}

int eb_parse_imu(const uint8_t *body, size_t len, eb_imu *out) {
    size_t head = EB_IMU_HEADER_SIZE;
    if (len < EB_IMU_HEADER_SIZE) return EB_ERR_LENGTH;
    out->n = body[0];
    out->flags = body[1];
    out->dt_us = get_u16(body + 2);
    out->channels = (out->flags & EB_IMU_HAS_GYRO) ? 6 : 3;
    out->thermal_count = 0;
    if (out->flags & EB_IMU_HAS_THERMAL_COUNT) {
        if (len < head + 2u) return EB_ERR_LENGTH;
        out->thermal_count = get_u16(body + head);
        head += 2u;
    }
    out->counts_le = body + head;
    if (out->n == 0 || len != head + (size_t)out->n * out->channels * 2u) return EB_ERR_LENGTH;
    return EB_OK;
}

int16_t eb_imu_count(const eb_imu *imu, size_t sample, size_t channel) {
    return (int16_t)get_u16(imu->counts_le + 2 * (sample * imu->channels + channel));
}

int eb_parse_thermal(const uint8_t *body, size_t len, eb_thermal *out) {
    size_t px;
    if (len < EB_THERMAL_HEADER_SIZE) return EB_ERR_LENGTH;
    out->sensor = body[0];
    out->encoding = body[1];
    out->width = get_u16(body + 2);
    out->height = get_u16(body + 4);
    out->scale = get_f32(body + 6);
    out->offset = get_f32(body + 10);
    out->pixels_le = body + EB_THERMAL_HEADER_SIZE;
    px = pixel_size(out->encoding);
    if (px == 0) return EB_ERR_TYPE;
    if ((size_t)out->width * out->height == 0 || len != EB_THERMAL_HEADER_SIZE + (size_t)out->width * out->height * px)
        return EB_ERR_LENGTH;
    return EB_OK;
}

float eb_thermal_celsius(const eb_thermal *th, size_t index) {
    const uint8_t *p = th->pixels_le + index * pixel_size(th->encoding);
    double v;
    if (th->encoding == EB_PIX_FLOAT32) v = get_f32(p);
    else if (th->encoding == EB_PIX_INT16) v = (int16_t)get_u16(p);
    else v = get_u16(p);
    return (float)(v * th->scale + th->offset);
}

int eb_parse_info(const uint8_t *body, size_t len, eb_info *out, char strings[3][256]) {
    size_t pos = EB_INFO_FIXED_SIZE;
    if (len < EB_INFO_FIXED_SIZE) return EB_ERR_LENGTH;
    out->accel_lsb_mps2 = get_f32(body);
    out->gyro_lsb_rads = get_f32(body + 4);
    out->imu_rate_hz = get_f32(body + 8);
    out->thermal_rate_hz = get_f32(body + 12);
    out->accel_fs_g = get_u16(body + 16);
    out->gyro_fs_dps = get_u16(body + 18);
    out->flags = body[20];
    for (int i = 0; i < 3; i++) {
        size_t n;
        if (pos >= len) return EB_ERR_LENGTH;
        n = body[pos];
        if (pos + 1 + n > len) return EB_ERR_LENGTH;
        memcpy(strings[i], body + pos + 1, n);
        strings[i][n] = 0;
        pos += 1 + n;
    }
    out->firmware = strings[0];
    out->imu_sensor = strings[1];
    out->thermal_sensor = strings[2];
    return EB_OK;
}

int eb_parse_command(const eb_header *hdr, const uint8_t *body, size_t len, eb_command *out) {
    memset(out, 0, sizeof(*out));
    out->type = hdr->type;
    switch (hdr->type) {
    case EB_CMD_START:
        if (len != 1) return EB_ERR_LENGTH;
        out->stream_mask = body[0] ? body[0] : 0x03;
        return EB_OK;
    case EB_CMD_SET_RATE:
        if (len != 5) return EB_ERR_LENGTH;
        out->stream = body[0];
        out->rate_hz = get_f32(body + 1);
        return EB_OK;
    case EB_CMD_STOP:
    case EB_CMD_GET_INFO:
        return len == 0 ? EB_OK : EB_ERR_LENGTH;
    default:
        return EB_ERR_TYPE;
    }
}

/* ---------------------------------------------------------------- streaming decoder */
void eb_decoder_init(eb_decoder *d, uint8_t *buf, size_t cap) {
    memset(d, 0, sizeof(*d));
    d->buf = buf;
    d->cap = cap;
}

static void reject(eb_decoder *d, uint32_t *reason, size_t len) {
    d->bytes_discarded += (uint32_t)len + 1u;
    d->resyncs++;
    if (d->synced) (*reason)++; /* the partial frame before the first delimiter is expected */
    d->synced = 1;
}

int eb_decoder_feed(eb_decoder *d, uint8_t byte, eb_header *hdr, const uint8_t **body, size_t *body_len) {
    size_t len;
    int rc;
    if (byte != 0) {
        if (d->len < d->cap) d->buf[d->len++] = byte;
        else d->overflow = 1;
        return 0;
    }
    len = d->len;
    d->len = 0;
    if (d->overflow) {
        d->overflow = 0;
        d->bytes_discarded += (uint32_t)len + 1u;
        d->resyncs++;
        d->synced = 1;
        return 0;
    }
    if (len == 0) { d->synced = 1; return 0; }
    rc = eb_frame_decode(d->buf, len, hdr, body, body_len);
    switch (rc) {
    case EB_OK: d->synced = 1; d->frames_ok++; return 1;
    case EB_ERR_CRC: reject(d, &d->crc_failures, len); break;
    case EB_ERR_COBS: reject(d, &d->cobs_errors, len); break;
    case EB_ERR_VERSION: reject(d, &d->bad_version, len); break;
    default: reject(d, &d->bad_length, len); break;
    }
    return 0;
}
