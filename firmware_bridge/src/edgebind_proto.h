/* edgebind serial protocol v2: COBS framing, CRC-16/CCITT-FALSE, little-endian fields.
 * Portable C99, no allocation, no I/O: the same file builds for an ESP32-S3 / RP2040 and for host tests.
 * The frame layout is specified in firmware_bridge/PROTOCOL.md and mirrored in edgebind/bridge/protocol.py.
 */
#ifndef EDGEBIND_PROTO_H
#define EDGEBIND_PROTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EB_PROTOCOL_VERSION 2u     /* written in every frame */
#define EB_PROTOCOL_VERSION_MIN 1u /* oldest version the decoder accepts (v1 = v2 without the counters) */
#define EB_HEADER_SIZE 8u
#define EB_CRC_SIZE 2u
#define EB_MAX_PAYLOAD 40960u /* header + body + CRC */
#define EB_MAX_ENCODED (EB_MAX_PAYLOAD + EB_MAX_PAYLOAD / 254u + 2u)
#define EB_MAX_IMU_BATCH 255u
#define EB_IMU_HEADER_SIZE 4u
#define EB_IMU_THERMAL_COUNT_SIZE 2u /* v2: the u16 thermal count after the IMU header (EB_IMU_HAS_THERMAL_COUNT) */
#define EB_THERMAL_HEADER_SIZE 14u
#define EB_INFO_FIXED_SIZE 22u

enum eb_type {
    EB_INFO = 0x01, EB_IMU = 0x02, EB_THERMAL = 0x03, EB_LOG = 0x04,
    EB_CMD_START = 0x81, EB_CMD_STOP = 0x82, EB_CMD_SET_RATE = 0x83, EB_CMD_GET_INFO = 0x84
};
enum eb_thermal_sensor { EB_SENSOR_OTHER = 0, EB_SENSOR_MLX90640 = 1, EB_SENSOR_AMG8833 = 2, EB_SENSOR_LEPTON = 3 };
enum eb_pixel_encoding { EB_PIX_INT16 = 1, EB_PIX_UINT16 = 2, EB_PIX_FLOAT32 = 3 };
enum eb_log_level { EB_LOG_DEBUG = 0, EB_LOG_INFO = 1, EB_LOG_WARNING = 2, EB_LOG_ERROR = 3 };
enum eb_stream { EB_STREAM_IMU = 0, EB_STREAM_THERMAL = 1 };
enum eb_error { EB_OK = 0, EB_ERR_COBS = -1, EB_ERR_CRC = -2, EB_ERR_VERSION = -3, EB_ERR_LENGTH = -4,
                EB_ERR_SPACE = -5, EB_ERR_TYPE = -6 };

#define EB_INFO_HAS_GYRO 0x01u
#define EB_INFO_HAS_THERMAL 0x02u
#define EB_IMU_HAS_GYRO 0x01u
#define EB_IMU_HAS_THERMAL_COUNT 0x02u /* v2: u16 thermal frame count after the IMU header */
#define EB_INFO_COUNTERS_SIZE 4u       /* v2: next IMU seq, next THERMAL seq after the strings */

typedef struct {
    uint8_t version;
    uint8_t type;
    uint16_t seq;  /* IMU: index of the first sample; other streams: frame counter */
    uint32_t t_us; /* device clock, microseconds, wraps after 71.6 min */
} eb_header;

typedef struct {
    float accel_lsb_mps2; /* m/s^2 per count */
    float gyro_lsb_rads;  /* rad/s per count; 0 without a gyroscope */
    float imu_rate_hz;
    float thermal_rate_hz;
    uint16_t accel_fs_g;
    uint16_t gyro_fs_dps;
    uint8_t flags;
    const char *firmware; /* each string at most 255 bytes of UTF-8 */
    const char *imu_sensor;
    const char *thermal_sensor;
} eb_info;

typedef struct {
    uint8_t n;        /* samples */
    uint8_t flags;    /* EB_IMU_HAS_GYRO */
    uint16_t dt_us;   /* interval between samples */
    uint8_t channels; /* 6 with gyro, 3 without */
    const uint8_t *counts_le; /* n * channels little-endian int16 */
    uint16_t thermal_count;   /* v2, flag EB_IMU_HAS_THERMAL_COUNT: THERMAL frames sent before this frame */
} eb_imu;

typedef struct {
    uint8_t sensor, encoding;
    uint16_t width, height;
    float scale, offset; /* degrees C = value * scale + offset */
    const uint8_t *pixels_le;
} eb_thermal;

typedef struct {
    uint8_t type;
    uint8_t stream_mask; /* START: bit0 IMU, bit1 thermal */
    uint8_t stream;      /* SET_RATE */
    float rate_hz;       /* SET_RATE */
} eb_command;

/* Checksums and byte stuffing. */
uint16_t eb_crc16(const uint8_t *data, size_t len);
uint16_t eb_crc16_update(uint16_t crc, uint8_t byte);
/* COBS-encode len bytes into dst (no delimiter); returns bytes written or 0 when dst_cap is too small. */
size_t eb_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap);
/* COBS-decode a block (without delimiter); dst may equal src. Returns length, or -1 on malformed input. */
long eb_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap);

/* Frames: COBS(header + body + crc16_le) + 0x00. Returns wire bytes, or 0 when out_cap is too small. */
size_t eb_frame_encode(uint8_t type, uint16_t seq, uint32_t t_us, const uint8_t *body, size_t body_len,
                       uint8_t *out, size_t out_cap);
/* Decode one block in place (block is overwritten). On EB_OK *body points into block. */
int eb_frame_decode(uint8_t *block, size_t len, eb_header *hdr, const uint8_t **body, size_t *body_len);

/* Bodies. Builders return body bytes or 0 when cap is too small / arguments are invalid. */
size_t eb_build_info(uint8_t *body, size_t cap, const eb_info *info);
/* v2: INFO followed by the seq the next IMU sample and the next THERMAL frame will carry (0, 0 after boot), so the
 * host counts losses from the start of each stream. */
size_t eb_build_info_seq(uint8_t *body, size_t cap, const eb_info *info, uint16_t imu_next_seq,
                         uint16_t thermal_next_seq);
size_t eb_build_imu(uint8_t *body, size_t cap, uint8_t n, int has_gyro, uint16_t dt_us, const int16_t *counts);
/* v2: the same, carrying the number of THERMAL frames sent so far (mod 2^16) so the host counts thermal loss
 * exactly. Firmware with a thermal stream should use this one. */
size_t eb_build_imu_tc(uint8_t *body, size_t cap, uint8_t n, int has_gyro, uint16_t dt_us, const int16_t *counts,
                       uint16_t thermal_count);
size_t eb_build_thermal(uint8_t *body, size_t cap, const eb_thermal *th, const void *pixels);
size_t eb_build_log(uint8_t *body, size_t cap, uint8_t level, const char *text);
size_t eb_build_command(uint8_t *body, size_t cap, const eb_command *cmd);
int eb_parse_imu(const uint8_t *body, size_t len, eb_imu *out);
int16_t eb_imu_count(const eb_imu *imu, size_t sample, size_t channel);
int eb_parse_thermal(const uint8_t *body, size_t len, eb_thermal *out);
float eb_thermal_celsius(const eb_thermal *th, size_t index);
/* Strings of INFO are copied NUL-terminated into strings[3][256]. */
int eb_parse_info(const uint8_t *body, size_t len, eb_info *out, char strings[3][256]);
/* v2 counters of an INFO body: 1 and the values when present, 0 for an INFO without them. */
int eb_info_next_seq(const uint8_t *body, size_t len, uint16_t *imu_next_seq, uint16_t *thermal_next_seq);
int eb_parse_command(const eb_header *hdr, const uint8_t *body, size_t len, eb_command *out);

/* Streaming decoder: feed bytes one at a time; returns 1 when a valid frame completed. */
typedef struct {
    uint8_t *buf;
    size_t cap, len;
    int synced, overflow;
    uint32_t frames_ok, crc_failures, cobs_errors, bad_version, bad_length, bytes_discarded, resyncs;
} eb_decoder;

void eb_decoder_init(eb_decoder *d, uint8_t *buf, size_t cap);
int eb_decoder_feed(eb_decoder *d, uint8_t byte, eb_header *hdr, const uint8_t **body, size_t *body_len);

#ifdef __cplusplus
}
#endif
#endif /* EDGEBIND_PROTO_H */
