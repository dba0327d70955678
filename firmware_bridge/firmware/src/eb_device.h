/* The device side of an edgebind session (PROTOCOL.md section 7), shared by every firmware variant: the
 * reference firmware on real boards (main.cpp) and the synthetic-sensor firmware run in QEMU and simavr
 * (../../emu/). It answers START / STOP / GET_INFO, batches IMU samples into frames, numbers every stream and
 * frames thermal images. Pure C99 on top of edgebind_proto: bytes go out through one write callback, time
 * comes in as arguments, so nothing here knows a UART, a timer or a sensor.
 */
#ifndef EB_DEVICE_H
#define EB_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "edgebind_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef EB_DEV_MAX_BATCH
#define EB_DEV_MAX_BATCH 10u /* ~100 frames/s at 1 kHz: 13.6 B/sample on the wire (PROTOCOL.md link budget) */
#endif
#if EB_DEV_MAX_BATCH < 1 || EB_DEV_MAX_BATCH > 255
#error "EB_DEV_MAX_BATCH must be 1..255 (an IMU frame's sample count is a u8)"
#endif
/* The largest IMU body: header, v2 thermal count, 6 int16 per sample. 160 B is the floor for INFO and LOG. */
#define EB_DEV_IMU_BODY_MAX (EB_IMU_HEADER_SIZE + EB_IMU_THERMAL_COUNT_SIZE + EB_DEV_MAX_BATCH * 12u)
#define EB_DEV_BODY_CAP (EB_DEV_IMU_BODY_MAX > 160u ? EB_DEV_IMU_BODY_MAX : 160u)
/* COBS adds one byte per 254 plus one, then the 0x00 delimiter */
#define EB_DEV_WIRE_CAP(body) (EB_HEADER_SIZE + (body) + EB_CRC_SIZE + ((body) + 10u) / 254u + 2u)

typedef void (*eb_dev_write_fn)(void *user, const uint8_t *data, size_t len);

typedef struct {
    eb_info info;         /* rates here are the ones the hardware really runs at; update via eb_device_set_rates */
    eb_dev_write_fn write;
    void *user;
    uint8_t batch_max;    /* samples per IMU frame, 1..EB_DEV_MAX_BATCH */
    volatile uint8_t streaming, stream_mask;
    uint8_t n;            /* samples waiting in batch */
    uint16_t imu_seq, thermal_seq, log_seq;
    uint32_t imu_lost;    /* samples the IMU produced that were never read (FIFO overflow), since init */
    uint32_t first_t_us;
    uint16_t batch_dt_us;
    int16_t batch[EB_DEV_MAX_BATCH * 6u];
    eb_decoder rx;
    uint8_t rx_buf[32];
    uint8_t body[EB_DEV_BODY_CAP];
    uint8_t wire[EB_DEV_WIRE_CAP(EB_DEV_BODY_CAP)];
} eb_device;

/* info is copied (its strings are not: keep them alive). batch_max is clamped to 1..EB_DEV_MAX_BATCH. */
void eb_device_init(eb_device *d, const eb_info *info, uint8_t batch_max, eb_dev_write_fn write, void *user);

/* Feed one byte received from the host. START, STOP and GET_INFO are handled here; the return value is the
 * command type that completed (0 if none), with the command in *cmd, so the caller can reset its sampling
 * clock on EB_CMD_START and must apply EB_CMD_SET_RATE to its hardware, then call eb_device_set_rates. */
uint8_t eb_device_rx(eb_device *d, uint8_t byte, uint32_t now_us, eb_command *cmd);

/* One IMU sample (6 counts: accel xyz, gyro xyz) taken at t_us. Dropped unless streaming with the IMU in the
 * mask; sent as a frame once batch_max samples are waiting. Call it once per data-ready, never on a timer
 * alone, or samples are duplicated or skipped. */
void eb_device_imu(eb_device *d, uint32_t t_us, const int16_t counts[6]);

/* `lost` samples the IMU produced were never read (its FIFO overflowed, or its data register was overwritten
 * before it was read). The waiting batch is sent first, then the IMU sequence number advances by `lost`: the
 * host counts them as a sequence gap (samples_lost), and the next frame's time is its own first sample's, so no
 * batch spans a gap and time is never compressed. Counted in imu_lost. Nothing happens unless streaming. */
void eb_device_imu_lost(eb_device *d, uint32_t lost);

/* Send what the IMU batch holds now (on STOP and before a rate change; sample times must stay regular). */
void eb_device_flush(eb_device *d);

/* One thermal image, when streaming with thermal in the mask. body/wire are the caller's buffers (an MLX90640
 * int16 frame needs EB_THERMAL_HEADER_SIZE + 1536 and EB_DEV_WIRE_CAP of that). Returns 1 if sent. */
int eb_device_thermal(eb_device *d, uint32_t t_us, const eb_thermal *th, const void *pixels, uint8_t *body,
                      size_t body_cap, uint8_t *wire, size_t wire_cap);

void eb_device_log(eb_device *d, uint32_t now_us, uint8_t level, const char *text);
void eb_device_send_info(eb_device *d, uint32_t now_us);

/* After SET_RATE: store the rates the hardware now really runs at, answer with a LOG and a fresh INFO. */
void eb_device_set_rates(eb_device *d, uint32_t now_us, float imu_rate_hz, float thermal_rate_hz);

#ifdef __cplusplus
}
#endif
#endif /* EB_DEVICE_H */
