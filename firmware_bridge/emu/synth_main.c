/* Emulator firmware: the edgebind device session (../firmware/src/eb_device.c, the same code the reference
 * firmware runs) fed by the synthetic sensor of synth.h instead of I2C chips, on any board of board.h.
 * Samples are due on a fixed device-time grid (IMU every 1e6 / rate us); a late loop catches up, so no sample
 * is dropped or repeated, and every sample carries the time it was due. */
#include "board.h"
#include "eb_device.h"
#include "synth.h"

#ifndef EB_SYNTH_IMU_HZ
#define EB_SYNTH_IMU_HZ 200u
#endif
#ifndef EB_SYNTH_THERMAL_HZ /* 0: no thermal stream (the ATmega328P has 2 KB of RAM, a frame needs 3 KB) */
#define EB_SYNTH_THERMAL_HZ 2u
#endif
#define EB_SYNTH_FIRMWARE "edgebind-synth-0.2.0"

static eb_device dev;
#if EB_SYNTH_THERMAL_HZ
#define TH_PIXELS (EB_SYNTH_THERMAL_W * EB_SYNTH_THERMAL_H)
#define TH_BODY (EB_THERMAL_HEADER_SIZE + TH_PIXELS * 2u)
static int16_t th_pixels[TH_PIXELS];
static uint8_t th_body[TH_BODY];
static uint8_t th_wire[EB_DEV_WIRE_CAP(TH_BODY)];
#endif

static void write_uart(void *user, const uint8_t *data, size_t len) {
    (void)user;
    board_write(data, len);
}

/* The synthetic IMU runs on an integer microsecond period, so its real rate is 1e6 / period. */
static uint32_t imu_period_us(float rate_hz) {
    float p = 1e6f / rate_hz + 0.5f;
    return p < 1000.0f ? 1000u : p > 1e6f ? 1000000u : (uint32_t)p;
}

int main(void) {
    uint32_t n = 0, next_imu = 0, period = 1000000u / EB_SYNTH_IMU_HZ;
    int16_t s[6];
    eb_info info = {16.0f * 9.80665f / 32768.0f, 2000.0f * 3.14159265f / 180.0f / 32768.0f,
                    1e6f / (float)(1000000u / EB_SYNTH_IMU_HZ), (float)EB_SYNTH_THERMAL_HZ, 16, 2000,
                    (uint8_t)(EB_INFO_HAS_GYRO | (EB_SYNTH_THERMAL_HZ ? EB_INFO_HAS_THERMAL : 0)),
                    EB_SYNTH_FIRMWARE, "synthetic", EB_SYNTH_THERMAL_HZ ? "synthetic-32x24" : ""};
#if EB_SYNTH_THERMAL_HZ
    uint32_t f = 0, next_th = 0;
    const uint32_t th_period = 1000000u / EB_SYNTH_THERMAL_HZ;
    eb_thermal th = {EB_SENSOR_OTHER, EB_PIX_INT16, EB_SYNTH_THERMAL_W, EB_SYNTH_THERMAL_H, 0.01f, 0.0f, 0};
#endif
    board_init();
    eb_device_init(&dev, &info, 10, write_uart, 0);
    for (;;) {
        int c;
        uint32_t now;
        while ((c = board_getc()) >= 0) {
            eb_command cmd;
            uint8_t type;
            now = board_micros();
            type = eb_device_rx(&dev, (uint8_t)c, now, &cmd);
            if (type == EB_CMD_START) {
                n = 0;
                next_imu = now;
#if EB_SYNTH_THERMAL_HZ
                f = 0;
                next_th = now;
#endif
            } else if (type == EB_CMD_SET_RATE && cmd.stream == EB_STREAM_IMU) {
                if (cmd.rate_hz > 0.0f && cmd.rate_hz < 1e9f) {
                    period = imu_period_us(cmd.rate_hz);
                    eb_device_set_rates(&dev, now, 1e6f / (float)period, dev.info.thermal_rate_hz);
                } else {
                    eb_device_log(&dev, now, EB_LOG_WARNING, "set_rate: rate must be a positive number; kept");
                }
            }
        }
        if (dev.streaming) {
            now = board_micros();
            while ((int32_t)(now - next_imu) >= 0) {
                eb_synth_imu(n++, s);
                eb_device_imu(&dev, next_imu, s);
                next_imu += period;
            }
#if EB_SYNTH_THERMAL_HZ
            while ((int32_t)(now - next_th) >= 0) {
                eb_synth_thermal(f++, th_pixels);
                eb_device_thermal(&dev, next_th, &th, th_pixels, th_body, sizeof th_body, th_wire, sizeof th_wire);
                next_th += th_period;
            }
#endif
        }
        board_idle();
    }
}
