/* The synthetic IMU as a part: what the emulator firmware reads instead of an I2C chip. It behaves like an
 * ICM-42688-P seen from its registers, on the emulated clock (board_micros):
 *
 *  - while enabled it takes sample n (emu/synth.h) at first_t + k * period, k = 0, 1, ..., n counting on from
 *    the last run; each sample overwrites the data register, pulses the data-ready line (counted by a 16-bit edge
 *    counter, as an MCU's pulse counter would) and enters the FIFO;
 *  - the FIFO holds at most EB_IMU_FIFO_DEPTH samples; when it is full a new sample is dropped (ICM-42688-P
 *    FIFO_MODE stop-on-full) and counted in imu_model_overflows (the model's own truth, for tests).
 *
 * The part's state is brought up to the emulated time at every access, so what the firmware reads at time t is
 * exactly what a chip sampling on that grid would hold at t: a firmware that reads late finds the register
 * overwritten and the FIFO full. Nothing is generated for a time the firmware has not reached yet, and nothing
 * the firmware missed is handed to it later. */
#ifndef EB_IMU_MODEL_H
#define EB_IMU_MODEL_H

#include <stdint.h>

#ifndef EB_IMU_FIFO_DEPTH
#define EB_IMU_FIFO_DEPTH 128u /* ICM-42688-P: 2 KB FIFO of 16-byte packets (accel + gyro + temp + timestamp) */
#endif

/* Enable at `first_t_us` (the first sample's time) with `period_us`. reset_index: sample numbering restarts at
 * 0 (START), else it continues (a rate change). The FIFO and data-ready state are cleared. */
void imu_model_enable(uint32_t first_t_us, uint32_t period_us, int reset_index);
/* Stop sampling at the current time (samples due until now are taken first). */
void imu_model_disable(void);

uint16_t imu_model_pulses(void);          /* data-ready pulses so far, mod 2^16 */
void imu_model_read_data(int16_t out[6]); /* the data register: the newest sample */
uint32_t imu_model_fifo_count(void);
/* 1 and the oldest sample with its timestamp (the time it was taken, in us, low 16 bits, as the ICM-42688-P's
 * FIFO packets carry it), or 0 when empty */
int imu_model_fifo_pop(int16_t out[6], uint16_t *ts_us);
uint32_t imu_model_overflows(void);       /* samples dropped by a full FIFO since the last enable with reset */

#endif /* EB_IMU_MODEL_H */
