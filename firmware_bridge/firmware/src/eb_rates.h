/* Sensor rate arithmetic for the reference firmware: what each requested rate really becomes on the chip.
 * Pure C99, no I/O, so the same file builds for the boards, the emulators and the host tests
 * (tests/test_rates.c). Every function returns the rate the hardware will really run at; the firmware puts that
 * rate, never the requested one, into INFO.
 */
#ifndef EB_RATES_H
#define EB_RATES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { EB_RATE_OK = 0, EB_RATE_INVALID = -1 };

/* MPU-6050 (RM-MPU-6000A rev 4.2, register 25): sample rate = gyro output rate / (1 + SMPLRT_DIV), an 8-bit
 * divider, gyro output rate 1 kHz with the DLPF on (8 kHz with it off). The divider is rounded to the nearest
 * achievable rate and clamped to 0..255, so a request outside gyro_out_hz/256 .. gyro_out_hz gets the nearest end.
 * Returns EB_RATE_INVALID (registers untouched) for a request that is not a positive finite number. */
int eb_mpu6050_rate(float requested_hz, float gyro_out_hz, uint8_t *smplrt_div, float *achieved_hz);

/* ICM-42688-P (DS-000347, GYRO_CONFIG0/ACCEL_CONFIG0 ODR field): the nearest of 50, 100, 200, 500, 1000 and
 * 2000 Hz at or above the request (2000 Hz above that). Returns EB_RATE_INVALID for a non-positive request. */
int eb_icm42688_rate(float requested_hz, uint8_t *odr_code, float *achieved_hz);

/* MLX90640: the refresh-rate register (Adafruit's mlx90640_refreshrate_t, 0 = 0.5 Hz .. 7 = 64 Hz) counts
 * sub-pages, and a full 32x24 frame needs two (chess or interlaced), so frames/s = setting / 2. The slowest
 * setting that reaches the requested *frame* rate is chosen, capped by what the I2C bus can read: one sub-page is
 * ~1668 bytes = ~15000 bits, so 400 kHz carries ~26 sub-pages/s (setting 16 Hz, 8 frames/s) and 1 MHz ~66
 * (setting 64 Hz, 32 frames/s). Returns EB_RATE_INVALID for a non-positive request or i2c_hz below 100 kHz. */
int eb_mlx90640_rate(float frame_hz, uint32_t i2c_hz, uint8_t *refresh_code, float *achieved_frame_hz);

/* The fastest I2C clock each part allows (datasheets): MPU-6050 400 kHz (fast mode), ICM-42688-P 1 MHz,
 * MLX90640 1 MHz (fast mode plus). */
#define EB_I2C_HZ_MPU6050 400000UL
#define EB_I2C_HZ_ICM42688 1000000UL
#define EB_I2C_HZ_MLX90640 1000000UL

#ifdef __cplusplus
}
#endif
#endif /* EB_RATES_H */
