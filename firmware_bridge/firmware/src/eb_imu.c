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
    t->taken = 0;
    t->pulses = 0;
    t->lost = 0;
    t->last_ts = 0;
    t->have_ts = 0;
}

void eb_imu_track_run(eb_imu_track *t, uint32_t first_t_us, uint32_t period_us, uint16_t pulses) {
    t->period_us = period_us;
    t->first_t_us = first_t_us;
    t->first_index = t->next_index;
    t->taken = t->next_index; /* nothing of the last run is left over: the FIFO starts empty */
    t->pulses = pulses;
    t->have_ts = 0;           /* nothing is lost before a run's first packet */
}

uint32_t eb_imu_taken(eb_imu_track *t, uint16_t pulses) {
    t->taken += (uint16_t)(pulses - t->pulses);
    t->pulses = pulses;
    return t->taken;
}

static void account(eb_imu_track *t, uint32_t lost, uint32_t read) {
    t->next_index += lost + read;
    t->lost += lost;
}

eb_imu_plan eb_imu_plan_fifo(eb_imu_track *t, uint16_t pulses, uint32_t fifo_count, int policy) {
    eb_imu_plan p = {0, 0, 0, 0};
    uint32_t fresh = eb_imu_taken(t, pulses) - t->next_index; /* taken since the last read */
    /* the FIFO holds at least `fresh` unless it overflowed; more means samples taken after the pulses were read */
    p.read = fifo_count < fresh ? fifo_count : fresh;
    if (policy == EB_FIFO_RESET) p.lost_before = fresh - p.read;
    else p.lost_after = fresh - p.read;
    p.first = t->next_index + p.lost_before;
    account(t, fresh - p.read, p.read);
    return p;
}

eb_imu_plan eb_imu_plan_register(eb_imu_track *t, uint16_t pulses) {
    eb_imu_plan p = {0, 0, 0, 0};
    uint32_t fresh = eb_imu_taken(t, pulses) - t->next_index;
    if (fresh) {
        p.lost_before = fresh - 1u; /* overwritten before they were read */
        p.read = 1;
    }
    p.first = t->next_index + p.lost_before;
    account(t, p.lost_before, p.read);
    return p;
}

uint32_t eb_imu_fifo_packet(eb_imu_track *t, uint16_t ts_us, uint32_t *index) {
    uint32_t periods = 1, gap;
    if (t->have_ts) periods = ((uint32_t)(uint16_t)(ts_us - t->last_ts) + t->period_us / 2u) / t->period_us;
    gap = periods ? periods - 1u : 0u; /* one period after the last packet: none lost */
    t->last_ts = ts_us;
    t->have_ts = 1;
    *index = t->next_index + gap;
    account(t, gap, 1); /* next_index may pass `taken`: a packet that came after the count was read */
    return gap;
}

uint32_t eb_imu_fifo_tail(eb_imu_track *t) {
    uint32_t tail = t->taken > t->next_index ? t->taken - t->next_index : 0u;
    account(t, tail, 0);
    t->last_ts = (uint16_t)(t->last_ts + tail * t->period_us); /* the next packet's gap counts from the last lost */
    return tail;
}

uint32_t eb_imu_time(const eb_imu_track *t, uint32_t index) {
    return t->first_t_us + (index - t->first_index) * t->period_us;
}
