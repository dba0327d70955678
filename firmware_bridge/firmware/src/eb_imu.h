/* IMU bookkeeping for the firmware, chip-independent: which part answered WHO_AM_I, and which samples a read
 * delivered, which were lost and when each was taken. Pure C99, no I/O: the same file builds for the boards,
 * the emulators and the host tests (tests/test_device.c).
 *
 * Counting. The IMU's data-ready output (INT1) pulses once per sample, at its output data rate, whatever the
 * firmware is doing; a hardware edge counter (ESP32 PCNT, RP2040 PWM counter, or a GPIO interrupt that only
 * increments) counts the pulses. Every read compares that count with the samples the firmware has accounted
 * for: the difference not found in the FIFO (or, reading the data register only, all but the newest) was lost.
 *
 * Time. Samples come on the IMU's own grid: sample i of a run (the IMU enabled at one rate) was taken at
 * t_first + i * period. A batch of contiguous samples is stamped from its first sample's grid time, so a frame
 * after a loss carries its own time, never the previous frame's time plus n nominal periods.
 */
#ifndef EB_IMU_H
#define EB_IMU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- WHO_AM_I */
enum eb_imu_part { EB_IMU_UNKNOWN = 0, EB_IMU_GENUINE = 1, EB_IMU_CLONE = 2 };

/* MPU-6050 WHO_AM_I (register 0x75): 0x68 genuine; 0x70, 0x72 and 0x98 are clones sold on GY-521 boards (0x70 is
 * what an MPU-6500 answers) that speak the MPU-6050 register map: accepted, with *warning set to a text for a LOG
 * frame. Anything else: EB_IMU_UNKNOWN (wiring, AD0, or another part), *warning set too. */
int eb_mpu6050_whoami(uint8_t who, const char **warning);
/* ICM-42688-P WHO_AM_I (register 0x75): 0x47. */
int eb_icm42688_whoami(uint8_t who, const char **warning);

/* ---------------------------------------------------------------- sample accounting */
/* What a read without timestamps must do: count `lost_before` lost samples (eb_device_imu_lost), then read and
 * send `read` samples, the first of which has index `first` (stamp each with eb_imu_time of its index), then
 * count `lost_after` lost samples. */
typedef struct {
    uint32_t lost_before, read, lost_after, first;
} eb_imu_plan;

/* Where lost samples sit relative to what the FIFO still holds when it overflows. */
enum eb_fifo_policy {
    EB_FIFO_STOP_ON_FULL = 0, /* the FIFO keeps its oldest samples (ICM-42688-P FIFO_MODE stop-on-full) */
    EB_FIFO_RESET = 1         /* the firmware resets an overflowed FIFO, keeping only later samples (MPU-6050) */
};

typedef struct {
    uint32_t period_us;      /* the IMU's sample period */
    uint32_t first_t_us;     /* time of sample `first_index`, the first of this run */
    uint32_t first_index;
    uint32_t next_index;     /* samples accounted for (read or lost) since START: the next sample's index */
    uint32_t taken;          /* samples the IMU took since START, from its data-ready pulses */
    uint16_t pulses;         /* the data-ready counter's value when `taken` was last brought up to date */
    uint32_t lost;           /* samples lost since START */
    uint16_t last_ts;        /* timestamp of the last FIFO packet read (eb_imu_fifo_packet), valid if have_ts */
    uint8_t have_ts;
} eb_imu_track;

/* START: everything restarts at index 0. Then eb_imu_track_run each time the IMU is (re)enabled so that its next
 * sample is taken at first_t_us and every period_us after; `pulses` is the counter's value just before enabling.
 * The sample index goes on from next_index. */
void eb_imu_track_init(eb_imu_track *t);
void eb_imu_track_run(eb_imu_track *t, uint32_t first_t_us, uint32_t period_us, uint16_t pulses);

/* The samples taken since START, from the 16-bit pulse counter (read it at least every 65535 periods). */
uint32_t eb_imu_taken(eb_imu_track *t, uint16_t pulses);

/* A FIFO read without timestamps: `pulses` read FIRST, then `fifo_count`. Samples beyond the pulses read are left
 * in the FIFO for the next read (they came after the count). */
eb_imu_plan eb_imu_plan_fifo(eb_imu_track *t, uint16_t pulses, uint32_t fifo_count, int policy);
/* A data-register read: the register holds the newest sample, the ones before it since the last read are lost.
 * `pulses` must be the same before and after the register read (read it twice, retry if it moved). */
eb_imu_plan eb_imu_plan_register(eb_imu_track *t, uint16_t pulses);

/* A FIFO read with timestamps (ICM-42688-P packet 3: 16 bits, 1 us, the IMU's own clock): bring the count up to
 * date first (eb_imu_taken), then read every packet the FIFO holds and, for each, call eb_imu_fifo_packet: it
 * returns how many samples were lost just before that packet (from the time since the previous packet) and sets
 * *index. After the last packet, eb_imu_fifo_tail returns how many were lost after it (taken but never queued).
 * A stop-on-full FIFO read while samples arrive can hold packets on both sides of a loss, which the pulse count
 * alone cannot place; the timestamps do, exactly for gaps under 65.5 ms (their wrap). The total is the count's. */
uint32_t eb_imu_fifo_packet(eb_imu_track *t, uint16_t ts_us, uint32_t *index);
uint32_t eb_imu_fifo_tail(eb_imu_track *t);

/* Time of sample `index` (an index of the current run) on the IMU's grid. */
uint32_t eb_imu_time(const eb_imu_track *t, uint32_t index);

#ifdef __cplusplus
}
#endif
#endif /* EB_IMU_H */
