/* Host tests for the firmware's portable parts: sensor rate arithmetic (eb_rates.c, the fixes for issue 11's
 * firmware bugs) and the device session (eb_device.c), whose output is decoded with the protocol library.
 * Prints "N passed, N failed" and exits non-zero on failure.   make test-device
 */
#include "../firmware/src/eb_device.h"
#include "../firmware/src/eb_rates.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static void test_mpu6050(void) {
    uint8_t div = 99;
    float hz = 0;
    CHECK(eb_mpu6050_rate(200.0f, 1000.0f, &div, &hz) == EB_RATE_OK && div == 4 && hz == 200.0f, "200 Hz: %u %g",
          div, hz);
    /* 3 Hz used to give (uint8_t)332 = 76, i.e. 13 Hz; now the divider stops at 255 and INFO says 3.906 Hz */
    CHECK(eb_mpu6050_rate(3.0f, 1000.0f, &div, &hz) == EB_RATE_OK && div == 255 && fabsf(hz - 3.90625f) < 1e-6f,
          "3 Hz: %u %g", div, hz);
    CHECK(eb_mpu6050_rate(2000.0f, 1000.0f, &div, &hz) == EB_RATE_OK && div == 0 && hz == 1000.0f, "2 kHz: %u %g",
          div, hz);
    CHECK(eb_mpu6050_rate(400.0f, 1000.0f, &div, &hz) == EB_RATE_OK && div == 2 && fabsf(hz - 333.3333f) < 1e-3f,
          "400 Hz -> 333.3: %u %g", div, hz);
    div = 7;
    CHECK(eb_mpu6050_rate(0.0f, 1000.0f, &div, &hz) == EB_RATE_INVALID && div == 7, "0 Hz accepted");
    CHECK(eb_mpu6050_rate(-5.0f, 1000.0f, &div, &hz) == EB_RATE_INVALID, "negative accepted");
    CHECK(eb_mpu6050_rate(NAN, 1000.0f, &div, &hz) == EB_RATE_INVALID, "NaN accepted");
}

static void test_icm42688(void) {
    uint8_t code = 0;
    float hz = 0;
    CHECK(eb_icm42688_rate(400.0f, &code, &hz) == EB_RATE_OK && code == 0x0F && hz == 500.0f, "400: %x %g", code,
          hz);
    CHECK(eb_icm42688_rate(1000.0f, &code, &hz) == EB_RATE_OK && code == 0x06 && hz == 1000.0f, "1k: %x %g", code,
          hz);
    CHECK(eb_icm42688_rate(5000.0f, &code, &hz) == EB_RATE_OK && code == 0x05 && hz == 2000.0f, "5k: %x %g", code,
          hz);
    CHECK(eb_icm42688_rate(10.0f, &code, &hz) == EB_RATE_OK && code == 0x09 && hz == 50.0f, "10: %x %g", code, hz);
    CHECK(eb_icm42688_rate(0.0f, &code, &hz) == EB_RATE_INVALID, "0 accepted");
}

static void test_mlx90640(void) {
    uint8_t code = 0;
    float fps = 0;
    /* 8 frames/s needs 16 sub-pages/s: setting 5 (MLX90640_16_HZ), not 4 (MLX90640_8_HZ = 4 frames/s) */
    CHECK(eb_mlx90640_rate(8.0f, 1000000UL, &code, &fps) == EB_RATE_OK && code == 5 && fps == 8.0f, "8 fps: %u %g",
          code, fps);
    CHECK(eb_mlx90640_rate(0.5f, 1000000UL, &code, &fps) == EB_RATE_OK && code == 1 && fps == 0.5f,
          "0.5 fps: %u %g", code, fps);
    CHECK(eb_mlx90640_rate(32.0f, 1000000UL, &code, &fps) == EB_RATE_OK && code == 7 && fps == 32.0f,
          "32 fps: %u %g", code, fps);
    /* 400 kHz reads ~26 sub-pages/s: 32 frames/s is impossible, 8 is what it delivers */
    CHECK(eb_mlx90640_rate(32.0f, 400000UL, &code, &fps) == EB_RATE_OK && code == 5 && fps == 8.0f,
          "32 fps at 400 kHz: %u %g", code, fps);
    CHECK(eb_mlx90640_rate(3.0f, 1000000UL, &code, &fps) == EB_RATE_OK && code == 4 && fps == 4.0f, "3 fps: %u %g",
          code, fps);
    CHECK(eb_mlx90640_rate(0.0f, 1000000UL, &code, &fps) == EB_RATE_INVALID, "0 fps accepted");
    CHECK(EB_I2C_HZ_MPU6050 == 400000UL, "MPU-6050 bus above its 400 kHz maximum");
}

/* ---------------------------------------------------------------- the device session, decoded on the host side */
static uint8_t out[8192];
static size_t out_len;
static void capture(void *user, const uint8_t *data, size_t len) {
    (void)user;
    if (out_len + len <= sizeof out) memcpy(out + out_len, data, len);
    out_len += len;
}

typedef struct {
    int n;
    uint8_t type[64];
    uint16_t seq[64];
    uint32_t t_us[64];
    eb_imu imu[64];
    eb_info info[64];
    uint8_t bodies[64][200];
} frames;
static frames got;
static char strings[3][256];

static void decode_all(void) {
    uint8_t buf[512];
    eb_decoder dec;
    eb_header h;
    const uint8_t *body;
    size_t len;
    memset(&got, 0, sizeof got);
    eb_decoder_init(&dec, buf, sizeof buf);
    for (size_t i = 0; i < out_len && got.n < 64; i++) {
        if (!eb_decoder_feed(&dec, out[i], &h, &body, &len)) continue;
        int k = got.n++;
        got.type[k] = h.type;
        got.seq[k] = h.seq;
        got.t_us[k] = h.t_us;
        memcpy(got.bodies[k], body, len < 200 ? len : 200);
        if (h.type == EB_IMU) eb_parse_imu(got.bodies[k], len, &got.imu[k]);
        if (h.type == EB_INFO) eb_parse_info(got.bodies[k], len, &got.info[k], strings);
    }
    out_len = 0;
}

static void host_sends(eb_device *d, uint8_t type, const eb_command *cmd, uint32_t now) {
    uint8_t body[8], wire[32];
    eb_command parsed;
    size_t n = eb_build_command(body, sizeof body, cmd);
    size_t w = eb_frame_encode(type, 0, 0, body, n, wire, sizeof wire);
    uint8_t last = 0;
    for (size_t i = 0; i < w; i++) last = eb_device_rx(d, wire[i], now, &parsed);
    CHECK(last == type, "command 0x%02x not completed by its last byte (%u)", type, last);
}

static void test_session(void) {
    eb_device d;
    eb_info info = {0.0047884f, 0.0010653f, 200.0f, 0.0f, 16, 2000, EB_INFO_HAS_GYRO, "fw", "imu", ""};
    eb_command start = {EB_CMD_START, 0, 0, 0}, stop = {EB_CMD_STOP, 0, 0, 0};
    int16_t s[6];
    eb_device_init(&d, &info, 4, capture, NULL);
    for (int i = 0; i < 6; i++) s[i] = (int16_t)(i - 3);
    eb_device_imu(&d, 100, s); /* before START: dropped, nothing sent */
    decode_all();
    CHECK(got.n == 0, "sent %d frames before START", got.n);

    host_sends(&d, EB_CMD_START, &start, 1000);
    for (int k = 0; k < 10; k++) {
        s[0] = (int16_t)k;
        eb_device_imu(&d, 2000u + 5000u * (uint32_t)k, s);
    }
    host_sends(&d, EB_CMD_STOP, &stop, 60000); /* flushes the 2 waiting samples */
    decode_all();
    CHECK(got.n == 4 && got.type[0] == EB_INFO && got.info[0].imu_rate_hz == 200.0f, "START: %d frames", got.n);
    int total = 0;
    for (int k = 1; k < got.n; k++) {
        CHECK(got.type[k] == EB_IMU && got.seq[k] == total, "frame %d: type %u seq %u", k, got.type[k], got.seq[k]);
        CHECK(got.t_us[k] == 2000u + 5000u * (uint32_t)total, "frame %d t_us %lu", k, (unsigned long)got.t_us[k]);
        CHECK(got.imu[k].n == 1 || got.imu[k].dt_us == 5000, "dt_us %u", got.imu[k].dt_us);
        for (int i = 0; i < got.imu[k].n; i++)
            CHECK(eb_imu_count(&got.imu[k], (size_t)i, 0) == total + i, "sample %d", total + i);
        total += got.imu[k].n;
    }
    CHECK(total == 10, "%d of 10 samples sent", total);

    eb_device_imu(&d, 70000, s); /* after STOP: dropped */
    eb_device_set_rates(&d, 80000, 333.33333f, 8.0f);
    decode_all();
    CHECK(got.n == 2 && got.type[0] == EB_LOG && got.type[1] == EB_INFO, "set_rates: %d frames", got.n);
    CHECK(strstr((const char *)got.bodies[0] + 1, "imu 333.333 Hz, thermal 8.000 Hz") != NULL, "log '%s'",
          (const char *)got.bodies[0] + 1);
    CHECK(got.info[1].imu_rate_hz == 333.33333f && got.info[1].thermal_rate_hz == 8.0f, "INFO rates %g %g",
          got.info[1].imu_rate_hz, got.info[1].thermal_rate_hz);

    /* a second START while streaming (the host reconnected): the waiting samples go out first, numbered on */
    host_sends(&d, EB_CMD_START, &start, 90000);
    eb_device_imu(&d, 91000, s);
    eb_device_imu(&d, 94000, s);
    host_sends(&d, EB_CMD_START, &start, 95000);
    decode_all();
    CHECK(got.n == 3 && got.type[0] == EB_INFO && got.type[1] == EB_IMU && got.type[2] == EB_INFO,
          "restart: %d frames", got.n);
    CHECK(got.imu[1].n == 2 && got.seq[1] == 10, "restart: %u samples from seq %u", got.imu[1].n, got.seq[1]);
}

int main(void) {
    test_mpu6050();
    test_icm42688();
    test_mlx90640();
    test_session();
    printf("device tests: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
