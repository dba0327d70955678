/* Sensor rate arithmetic; see eb_rates.h. */
#include "eb_rates.h"

static int positive(float hz) { return hz > 0.0f && hz < 1e9f; } /* false for NaN too */

int eb_mpu6050_rate(float requested_hz, float gyro_out_hz, uint8_t *smplrt_div, float *achieved_hz) {
    if (!positive(requested_hz) || !positive(gyro_out_hz)) return EB_RATE_INVALID;
    float div = gyro_out_hz / requested_hz - 1.0f;
    long d = div <= 0.0f ? 0L : div >= 255.0f ? 255L : (long)(div + 0.5f);
    *smplrt_div = (uint8_t)d;
    *achieved_hz = gyro_out_hz / (float)(1L + d);
    return EB_RATE_OK;
}

int eb_icm42688_rate(float requested_hz, uint8_t *odr_code, float *achieved_hz) {
    static const float hz[] = {50.0f, 100.0f, 200.0f, 500.0f, 1000.0f, 2000.0f};
    static const uint8_t code[] = {0x09, 0x08, 0x07, 0x0F, 0x06, 0x05};
    unsigned i = 0;
    if (!positive(requested_hz)) return EB_RATE_INVALID;
    while (i < 5 && hz[i] < requested_hz) i++;
    *odr_code = code[i];
    *achieved_hz = hz[i];
    return EB_RATE_OK;
}

int eb_mlx90640_rate(float frame_hz, uint32_t i2c_hz, uint8_t *refresh_code, float *achieved_frame_hz) {
    const float bits_per_subpage = 15000.0f;
    uint8_t c = 0;
    if (!positive(frame_hz) || i2c_hz < 100000UL) return EB_RATE_INVALID;
    float max_subpages = (float)i2c_hz / bits_per_subpage;
    /* setting c refreshes 0.5 * 2^c sub-pages/s; a frame is two of them */
    while (c < 7 && 0.25f * (float)(1u << c) < frame_hz && 0.5f * (float)(1u << (c + 1)) <= max_subpages) c++;
    *refresh_code = c;
    *achieved_frame_hz = 0.25f * (float)(1u << c);
    return EB_RATE_OK;
}
