/* The synthetic IMU part; see imu_model.h. */
#include "imu_model.h"

#include <string.h>

#include "board.h"
#include "synth.h"

static struct {
    int enabled;
    uint32_t next_t_us, period_us; /* time of the next sample */
    uint32_t n;                    /* index of the next sample (the waveform's n) */
    uint16_t pulses;
    uint32_t overflows;
    int16_t data[6];
    int16_t fifo[EB_IMU_FIFO_DEPTH][6];
    uint16_t fifo_ts[EB_IMU_FIFO_DEPTH];
    uint32_t head, count;
} imu;

static void take_samples_until(uint32_t now) {
    while (imu.enabled && (int32_t)(now - imu.next_t_us) >= 0) {
        eb_synth_imu(imu.n++, imu.data);
        imu.pulses++;
        if (imu.count < EB_IMU_FIFO_DEPTH) {
            memcpy(imu.fifo[(imu.head + imu.count) % EB_IMU_FIFO_DEPTH], imu.data, sizeof imu.data);
            imu.fifo_ts[(imu.head + imu.count) % EB_IMU_FIFO_DEPTH] = (uint16_t)imu.next_t_us;
            imu.count++;
        } else {
            imu.overflows++;
        }
        imu.next_t_us += imu.period_us;
    }
}

static void update(void) { take_samples_until(board_micros()); }

void imu_model_enable(uint32_t first_t_us, uint32_t period_us, int reset_index) {
    update();
    if (reset_index) {
        imu.n = 0;
        imu.overflows = 0;
    }
    imu.head = imu.count = 0;
    imu.next_t_us = first_t_us;
    imu.period_us = period_us;
    imu.enabled = 1;
}

void imu_model_disable(void) {
    update();
    imu.enabled = 0;
}

uint16_t imu_model_pulses(void) {
    update();
    return imu.pulses;
}

void imu_model_read_data(int16_t out[6]) {
    update();
    memcpy(out, imu.data, sizeof imu.data);
}

uint32_t imu_model_fifo_count(void) {
    update();
    return imu.count;
}

int imu_model_fifo_pop(int16_t out[6], uint16_t *ts_us) {
    update();
    if (!imu.count) return 0;
    memcpy(out, imu.fifo[imu.head], sizeof imu.data);
    *ts_us = imu.fifo_ts[imu.head];
    imu.head = (imu.head + 1u) % EB_IMU_FIFO_DEPTH;
    imu.count--;
    return 1;
}

uint32_t imu_model_overflows(void) { return imu.overflows; }
