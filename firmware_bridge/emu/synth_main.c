/* Emulator firmware: the edgebind device session (../firmware/src/eb_device.c, the same code the reference
 * firmware runs) fed by the synthetic IMU part of imu_model.h and the synthetic thermal camera of synth.h, on any
 * board of board.h.
 *
 * The IMU samples on its own clock whatever the firmware does. With EB_IMU_FIFO=1 (the default, what the
 * reference firmware does) each pass of the loop drains the IMU's FIFO in one burst, so a thermal frame that
 * holds the UART for ~17 ms costs no sample; with EB_IMU_FIFO=0 it reads the data register only (the firmware
 * before the FIFO) and the samples overwritten meanwhile are lost. Either way the data-ready pulse count tells
 * the firmware how many were lost (eb_imu.h), and the host counts them from the sequence numbers. */
#include "board.h"
#include "eb_device.h"
#include "eb_imu.h"
#include "imu_model.h"
#include "synth.h"

#ifndef EB_SYNTH_IMU_HZ
#define EB_SYNTH_IMU_HZ 200u
#endif
#ifndef EB_SYNTH_THERMAL_HZ /* 0: no thermal stream (the ATmega328P has 2 KB of RAM, a frame needs 3 KB) */
#define EB_SYNTH_THERMAL_HZ 2u
#endif
#ifndef EB_IMU_FIFO
#define EB_IMU_FIFO 1
#endif
#define EB_SYNTH_FIRMWARE "edgebind-synth-0.3.0"

static eb_device dev;
static eb_imu_track track;
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

/* Read what the IMU has: the FIFO in one burst, or the data register. */
static void imu_service(void) {
    eb_imu_plan plan;
    int16_t s[6];
#if EB_IMU_FIFO
    uint32_t queued, index, lost;
    uint16_t ts;
    (void)plan;
    eb_imu_taken(&track, imu_model_pulses()); /* first the count, then the FIFO level */
    queued = imu_model_fifo_count();
    for (uint32_t i = 0; i < queued && imu_model_fifo_pop(s, &ts); i++) { /* one burst */
        lost = eb_imu_fifo_packet(&track, ts, &index); /* lost just before this packet, from its timestamp */
        eb_device_imu_lost(&dev, lost);
        eb_device_imu(&dev, eb_imu_time(&track, index), s);
    }
    eb_device_imu_lost(&dev, eb_imu_fifo_tail(&track)); /* taken but never queued: the FIFO was full */
#else
    uint16_t before, after;
    do { /* the register must hold the sample the count says: retry if one arrived while reading it */
        before = imu_model_pulses();
        imu_model_read_data(s);
        after = imu_model_pulses();
    } while (before != after);
    plan = eb_imu_plan_register(&track, after);
    eb_device_imu_lost(&dev, plan.lost_before);
    if (plan.read) eb_device_imu(&dev, eb_imu_time(&track, plan.first), s);
#endif
}

/* (Re)start the IMU so that its next sample is taken at first_t_us. */
static void imu_run(uint32_t first_t_us, uint32_t period_us, int from_start) {
    uint16_t pulses = imu_model_pulses(); /* before enabling: the first sample may be due at once */
    if (from_start) eb_imu_track_init(&track);
    imu_model_enable(first_t_us, period_us, from_start);
    eb_imu_track_run(&track, first_t_us, period_us, pulses);
}

int main(void) {
    uint32_t period = 1000000u / EB_SYNTH_IMU_HZ;
    eb_info info = {16.0f * 9.80665f / 32768.0f, 2000.0f * 3.14159265f / 180.0f / 32768.0f,
                    1e6f / (float)(1000000u / EB_SYNTH_IMU_HZ), (float)EB_SYNTH_THERMAL_HZ, 16, 2000,
                    (uint8_t)(EB_INFO_HAS_GYRO | (EB_SYNTH_THERMAL_HZ ? EB_INFO_HAS_THERMAL : 0)),
                    EB_SYNTH_FIRMWARE, EB_IMU_FIFO ? "synthetic (FIFO)" : "synthetic (data register)",
                    EB_SYNTH_THERMAL_HZ ? "synthetic-32x24" : ""};
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
            uint8_t type, was_streaming = dev.streaming;
            now = board_micros();
            if (was_streaming) imu_service(); /* the session may end or restart: send what was taken first */
            type = eb_device_rx(&dev, (uint8_t)c, now, &cmd);
            if (type == EB_CMD_START) {
                board_clock_settle();
                /* a restart (the host reconnected): a sample taken since the service above is counted, not sent */
                if (was_streaming) eb_device_imu_lost(&dev, (uint16_t)(imu_model_pulses() - track.pulses));
                imu_run(now, period, 1); /* sample n = 0 at START, the waveform's origin */
#if EB_SYNTH_THERMAL_HZ
                f = 0;
                next_th = now;
#endif
            } else if (type == EB_CMD_STOP) {
                imu_model_disable();
            } else if (type == EB_CMD_SET_RATE && cmd.stream == EB_STREAM_IMU) {
                if (cmd.rate_hz > 0.0f && cmd.rate_hz < 1e9f) {
                    /* as on a chip: stop, read what it took at the old rate, start at the new one; the LOG's
                     * time is after every old sample and before every new one */
                    imu_model_disable();
                    if (dev.streaming) imu_service();
                    now = board_micros();
                    period = imu_period_us(cmd.rate_hz);
                    eb_device_set_rates(&dev, now, 1e6f / (float)period, dev.info.thermal_rate_hz);
                    if (dev.streaming) imu_run(now + period, period, 0);
                } else {
                    eb_device_log(&dev, now, EB_LOG_WARNING, "set_rate: rate must be a positive number; kept");
                }
            }
        }
        if (dev.streaming) {
            imu_service();
#if EB_SYNTH_THERMAL_HZ
            now = board_micros();
            if ((int32_t)(now - next_th) >= 0) { /* the camera's frame is ready: sending it holds the UART */
                eb_synth_thermal(f++, th_pixels);
                eb_device_thermal(&dev, next_th, &th, th_pixels, th_body, sizeof th_body, th_wire, sizeof th_wire);
                next_th += th_period;
            }
#endif
        }
        board_idle();
    }
}
