/* The synthetic sensor of the emulator firmware: a documented, deterministic, integer-only waveform, so a host
 * test can compute every sample the device sent and compare it count for count (docs/firmware.md).
 *
 * IMU sample n (n = 0 at START), raw counts at +-16 g (2048 LSB/g) and +-2000 dps:
 *   tri(n, P, A) = q - A if q <= 2A else 3A - q,  where q = (4 A (n mod P)) div P   (a triangle in [-A, A])
 *   ax = tri(n, 200, 1000)        ay = tri(n + 50, 320, 600)     az = 2048 + tri(n, 100, 200)
 *   gx = tri(n, 400, 3000)        gy = -tri(n, 250, 1500)        gz = (n mod 64) - 32
 * Thermal frame f (f = 0 at START), 32 x 24, int16 centi-degrees C, pixel (x, y), row-major from the top row:
 *   2000 + 37 * ((x + 3 y + f) mod 32)        (20.00 .. 31.47 degrees C)
 */
#ifndef EB_SYNTH_H
#define EB_SYNTH_H

#include <stdint.h>

#define EB_SYNTH_THERMAL_W 32u
#define EB_SYNTH_THERMAL_H 24u

void eb_synth_imu(uint32_t n, int16_t out[6]);
void eb_synth_thermal(uint32_t f, int16_t *centi_c /* W*H */);

#endif /* EB_SYNTH_H */
