/* IMU bookkeeping; see eb_imu.h. */
#include "eb_imu.h"

int eb_mpu6050_whoami(uint8_t who, const char **warning) {
    static const char *clone = "imu: WHO_AM_I is not 0x68: an MPU-6050 clone (0x70 MPU-6500, 0x72, 0x98), "
                               "driven with the MPU-6050 register map; check its noise and scale";
    static const char *unknown = "imu: WHO_AM_I is not an MPU-6050 (0x68) or a known clone (0x70, 0x72, 0x98); "
                                 "check wiring, AD0 and the part";
    *warning = 0;
    if (who == 0x68u) return EB_IMU_GENUINE;
    if (who == 0x70u || who == 0x72u || who == 0x98u) {
        *warning = clone;
        return EB_IMU_CLONE;
    }
    *warning = unknown;
    return EB_IMU_UNKNOWN;
}

int eb_icm42688_whoami(uint8_t who, const char **warning) {
    *warning = who == 0x47u ? 0 : "imu: WHO_AM_I is not an ICM-42688-P (0x47); check wiring, AD0 and the part";
    return who == 0x47u ? EB_IMU_GENUINE : EB_IMU_UNKNOWN;
}

void eb_imu_track_init(eb_imu_track *t) {
    t->period_us = 1000u;
    t->first_t_us = 0;
    t->first_index = 0;
    t->next_index = 0;
    t->pulses = 0;
    t->lost = 0;
    t->last_ts = 0;
    t->have_ts = 0;
}

void eb_imu_track_run(eb_imu_track *t, uint32_t first_t_us, uint32_t period_us, uint16_t pulses) {
    t->period_us = period_us;
    t->first_t_us = first_t_us;
    t->first_index = t->next_index;
    t->pulses = pulses;
    t->have_ts = 0; /* the FIFO starts empty: nothing is lost before a run's first packet */
}

uint32_t eb_imu_fifo_gap(eb_imu_track *t, uint16_t ts_us, uint32_t *unplaced) {
    uint32_t periods = 1, gap;
    if (t->have_ts) periods = ((uint32_t)(uint16_t)(ts_us - t->last_ts) + t->period_us / 2u) / t->period_us;
    t->last_ts = ts_us;
    t->have_ts = 1;
    gap = periods ? periods - 1u : 0u; /* one period after the last packet: none lost */
    if (gap > *unplaced) gap = *unplaced;
    *unplaced -= gap;
    return gap;
}

static uint32_t taken_since(const eb_imu_track *t, uint16_t pulses) { return (uint16_t)(pulses - t->pulses); }

eb_imu_plan eb_imu_plan_fifo(eb_imu_track *t, uint16_t pulses, uint32_t fifo_count, int policy) {
    eb_imu_plan p = {0, 0, 0, 0};
    uint32_t fresh = taken_since(t, pulses); /* samples taken since the last read */
    /* the FIFO holds at least `fresh` unless it overflowed; more means samples taken after the pulses were read */
    p.read = fifo_count < fresh ? fifo_count : fresh;
    if (policy == EB_FIFO_RESET) p.lost_before = fresh - p.read;
    else p.lost_after = fresh - p.read;
    p.first = t->next_index + p.lost_before;
    t->pulses = pulses;
    t->next_index += fresh;
    t->lost += fresh - p.read;
    return p;
}

eb_imu_plan eb_imu_plan_register(eb_imu_track *t, uint16_t pulses) {
    eb_imu_plan p = {0, 0, 0, 0};
    uint32_t fresh = taken_since(t, pulses);
    if (fresh) {
        p.lost_before = fresh - 1u; /* overwritten before they were read */
        p.read = 1;
    }
    p.first = t->next_index + p.lost_before;
    t->pulses = pulses;
    t->next_index += fresh;
    t->lost += p.lost_before;
    return p;
}

uint32_t eb_imu_time(const eb_imu_track *t, uint32_t index) {
    return t->first_t_us + (index - t->first_index) * t->period_us;
}

void eb_imu_fifo_end(eb_imu_track *t, uint32_t unplaced) {
    t->last_ts = (uint16_t)(t->last_ts + unplaced * t->period_us);
}
