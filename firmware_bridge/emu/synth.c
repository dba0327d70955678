/* Synthetic sensor waveform; the formula is in synth.h. */
#include "synth.h"

static int32_t tri(uint32_t n, uint32_t period, int32_t amp) {
    int32_t q = (int32_t)((4 * (uint32_t)amp * (n % period)) / period);
    return q <= 2 * amp ? q - amp : 3 * amp - q;
}

void eb_synth_imu(uint32_t n, int16_t out[6]) {
    out[0] = (int16_t)tri(n, 200, 1000);
    out[1] = (int16_t)tri(n + 50, 320, 600);
    out[2] = (int16_t)(2048 + tri(n, 100, 200));
    out[3] = (int16_t)tri(n, 400, 3000);
    out[4] = (int16_t)-tri(n, 250, 1500);
    out[5] = (int16_t)((int32_t)(n % 64u) - 32);
}

void eb_synth_thermal(uint32_t f, int16_t *centi_c) {
    for (uint32_t y = 0; y < EB_SYNTH_THERMAL_H; y++)
        for (uint32_t x = 0; x < EB_SYNTH_THERMAL_W; x++)
            centi_c[y * EB_SYNTH_THERMAL_W + x] = (int16_t)(2000 + 37 * (int32_t)((x + 3 * y + f) % 32u));
}
