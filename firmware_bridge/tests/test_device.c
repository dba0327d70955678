/* Host tests for the firmware's portable parts: sensor rate arithmetic (eb_rates.c, the fixes for issue 11's
 * firmware bugs) and the device session (eb_device.c), whose output is decoded with the protocol library.
 * Prints "N passed, N failed" and exits non-zero on failure.   make test (also built with -DEB_DEV_MAX_BATCH=13
 * and 255, where the full batch must still go out as one frame)
 */
#include "../firmware/src/eb_device.h"
#include "../firmware/src/eb_imu.h"
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
static uint8_t out[16384];
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

/* A full batch of EB_DEV_MAX_BATCH samples goes out as one IMU frame carrying all of them (the old body cap forgot
 * the v2 thermal count: from 13 samples on no IMU frame was built at all, while imu_seq still advanced). */
static void test_full_batch(void) {
    static eb_device d;
    static uint8_t buf[EB_DEV_WIRE_CAP(EB_DEV_BODY_CAP)];
    eb_info info = {0.0047884f, 0.0010653f, 1000.0f, 8.0f, 16, 2000, EB_INFO_HAS_GYRO, "fw", "imu", "th"};
    eb_command start = {EB_CMD_START, 0, 0, 0};
    eb_decoder dec;
    eb_header h;
    eb_imu imu;
    const uint8_t *body;
    size_t len;
    int imu_frames = 0, n = 0;
    int16_t s[6];
    eb_device_init(&d, &info, (uint8_t)EB_DEV_MAX_BATCH, capture, NULL);
    CHECK(d.batch_max == EB_DEV_MAX_BATCH, "batch_max %u", d.batch_max);
    host_sends(&d, EB_CMD_START, &start, 0);
    for (unsigned k = 0; k < 2u * EB_DEV_MAX_BATCH; k++) {
        for (int c = 0; c < 6; c++) s[c] = (int16_t)(k * 6u + (unsigned)c);
        eb_device_imu(&d, 1000u * k, s);
    }
    eb_decoder_init(&dec, buf, sizeof buf);
    for (size_t i = 0; i < out_len && out_len <= sizeof out; i++) {
        if (!eb_decoder_feed(&dec, out[i], &h, &body, &len) || h.type != EB_IMU) continue;
        CHECK(eb_parse_imu(body, len, &imu) == EB_OK, "IMU frame %d does not parse", imu_frames);
        CHECK(imu.n == EB_DEV_MAX_BATCH && h.seq == (uint16_t)(imu_frames * (int)EB_DEV_MAX_BATCH) &&
                  h.t_us == 1000u * (uint32_t)h.seq && imu.dt_us == 1000u,
              "frame %d: n %u seq %u t %lu dt %u", imu_frames, imu.n, h.seq, (unsigned long)h.t_us, imu.dt_us);
        CHECK(eb_imu_count(&imu, imu.n - 1u, 5) == (int16_t)((h.seq + imu.n - 1) * 6 + 5), "last count");
        n += imu.n;
        imu_frames++;
    }
    CHECK(out_len <= sizeof out, "capture overflow %lu", (unsigned long)out_len);
    CHECK(imu_frames == 2 && n == 2 * (int)EB_DEV_MAX_BATCH && d.imu_seq == n,
          "batch %u: %d IMU frames, %d samples, imu_seq %u", (unsigned)EB_DEV_MAX_BATCH, imu_frames, n, d.imu_seq);
    out_len = 0;
}

/* Lost samples advance the sequence number, so the host counts them, and a frame after a loss has its own time. */
static void test_lost_samples(void) {
    eb_device d;
    eb_info info = {0.0047884f, 0.0010653f, 1000.0f, 0.0f, 16, 2000, EB_INFO_HAS_GYRO, "fw", "imu", ""};
    eb_command start = {EB_CMD_START, 0, 0, 0};
    int16_t s[6] = {0, 0, 0, 0, 0, 0};
    eb_device_init(&d, &info, 4, capture, NULL);
    eb_device_imu_lost(&d, 7); /* not streaming: nothing to count */
    CHECK(d.imu_seq == 0 && d.imu_lost == 0, "lost before START: seq %u lost %lu", d.imu_seq,
          (unsigned long)d.imu_lost);
    host_sends(&d, EB_CMD_START, &start, 0);
    for (uint32_t k = 0; k < 3; k++) eb_device_imu(&d, 1000u * k, s);  /* samples 0..2 */
    eb_device_imu_lost(&d, 17);                                          /* 3..19 lost */
    for (uint32_t k = 20; k < 24; k++) eb_device_imu(&d, 1000u * k, s); /* 20..23 */
    eb_device_imu_lost(&d, 0);
    decode_all();
    CHECK(got.n == 3 && got.type[1] == EB_IMU && got.type[2] == EB_IMU, "%d frames", got.n);
    CHECK(got.seq[1] == 0 && got.imu[1].n == 3 && got.t_us[1] == 0, "before the loss: seq %u n %u t %lu", got.seq[1],
          got.imu[1].n, (unsigned long)got.t_us[1]);
    CHECK(got.seq[2] == 20 && got.imu[2].n == 4 && got.t_us[2] == 20000u && got.imu[2].dt_us == 1000u,
          "after the loss: seq %u n %u t %lu", got.seq[2], got.imu[2].n, (unsigned long)got.t_us[2]);
    CHECK(d.imu_lost == 17 && d.imu_seq == 24, "imu_lost %lu imu_seq %u", (unsigned long)d.imu_lost, d.imu_seq);
    eb_device_imu_lost(&d, 65536u + 3u); /* the sequence number is mod 2^16, as the host unwraps it */
    CHECK(d.imu_seq == 27, "imu_seq %u after 65539 lost", d.imu_seq);
}

static void test_whoami(void) {
    const char *warning = "unset";
    CHECK(eb_mpu6050_whoami(0x68, &warning) == EB_IMU_GENUINE && warning == NULL, "0x68");
    static const uint8_t clones[] = {0x70, 0x72, 0x98};
    for (int i = 0; i < 3; i++) {
        warning = NULL;
        CHECK(eb_mpu6050_whoami(clones[i], &warning) == EB_IMU_CLONE && warning && strstr(warning, "clone"),
              "0x%02x not accepted as a clone", clones[i]);
    }
    static const uint8_t others[] = {0x00, 0x47, 0x69, 0x71, 0xFF};
    for (int i = 0; i < 5; i++) {
        warning = NULL;
        CHECK(eb_mpu6050_whoami(others[i], &warning) == EB_IMU_UNKNOWN && warning && strstr(warning, "wiring"),
              "0x%02x accepted as an MPU-6050", others[i]);
    }
    CHECK(eb_icm42688_whoami(0x47, &warning) == EB_IMU_GENUINE && warning == NULL, "0x47");
    CHECK(eb_icm42688_whoami(0x68, &warning) == EB_IMU_UNKNOWN && warning != NULL, "0x68 as ICM-42688-P");
}

/* The pulse count against what was read: exact loss, in the right place, and each sample's grid time. */
static void test_imu_track(void) {
    eb_imu_track t;
    eb_imu_plan p;
    uint32_t index = 0, lost;
    eb_imu_track_init(&t);
    eb_imu_track_run(&t, 5000, 1000, 65530); /* the 16-bit counter wraps during the test */
    p = eb_imu_plan_fifo(&t, 65533, 3, EB_FIFO_STOP_ON_FULL);
    CHECK(p.read == 3 && p.first == 0 && p.lost_before == 0 && p.lost_after == 0, "3 of 3: %lu", (unsigned long)p.read);
    p = eb_imu_plan_fifo(&t, 65535, 4, EB_FIFO_STOP_ON_FULL); /* 2 counted, 4 held: 2 came after the count */
    CHECK(p.read == 2 && p.first == 3 && p.lost_after == 0, "read %lu first %lu", (unsigned long)p.read,
          (unsigned long)p.first);
    p = eb_imu_plan_fifo(&t, 30, 8, EB_FIFO_STOP_ON_FULL); /* 31 taken, a FIFO of 8 kept its oldest */
    CHECK(p.read == 8 && p.first == 5 && p.lost_before == 0 && p.lost_after == 23, "overflow: read %lu lost %lu",
          (unsigned long)p.read, (unsigned long)p.lost_after);
    CHECK(eb_imu_time(&t, p.first) == 10000u && t.next_index == 36 && t.lost == 23, "time %lu next %lu lost %lu",
          (unsigned long)eb_imu_time(&t, p.first), (unsigned long)t.next_index, (unsigned long)t.lost);
    p = eb_imu_plan_fifo(&t, 40, 6, EB_FIFO_RESET); /* MPU-6050: reset on overflow, the later samples are kept */
    CHECK(p.lost_before == 4 && p.read == 6 && p.first == 40 && p.lost_after == 0, "reset: %lu %lu %lu",
          (unsigned long)p.lost_before, (unsigned long)p.read, (unsigned long)p.first);
    p = eb_imu_plan_register(&t, 40);
    CHECK(p.read == 0 && p.lost_before == 0, "register, nothing new");
    p = eb_imu_plan_register(&t, 57); /* the register holds sample 62; 16 before it were overwritten */
    CHECK(p.read == 1 && p.lost_before == 16 && p.first == 62 && t.lost == 43, "register: %lu lost, first %lu",
          (unsigned long)p.lost_before, (unsigned long)p.first);

    /* FIFO packets with timestamps (a new run from index 63 at t = 0, 1 ms period). A read counts 7 taken and
     * finds packets stamped 0, 1, 4, 5 ms: 2 lost before the third, 1 after the last (taken, never queued). */
    {
        static const uint16_t ts[] = {0, 1000, 4000, 5000};
        static const uint32_t want_lost[] = {0, 0, 2, 0}, want_index[] = {63, 64, 67, 68};
        eb_imu_track_run(&t, 0, 1000, 100);
        CHECK(eb_imu_taken(&t, 107) == 70, "taken %lu", (unsigned long)t.taken);
        for (int i = 0; i < 4; i++) {
            lost = eb_imu_fifo_packet(&t, ts[i], &index);
            CHECK(lost == want_lost[i] && index == want_index[i], "packet %d: %lu lost before, index %lu", i,
                  (unsigned long)lost, (unsigned long)index);
        }
        CHECK(eb_imu_fifo_tail(&t) == 1 && t.next_index == 70, "tail, next %lu", (unsigned long)t.next_index);
        /* the next read: 2 more taken; sample 70 was dropped while the last read ran, 71 is queued. Its packet
         * says so (two periods after the counted-lost sample 69), although the count had not seen it then */
        eb_imu_taken(&t, 109);
        lost = eb_imu_fifo_packet(&t, 8000, &index);
        CHECK(lost == 1 && index == 71 && eb_imu_fifo_tail(&t) == 0, "window drop: %lu lost, index %lu",
              (unsigned long)lost, (unsigned long)index);
        /* a packet that came after the count (index 72, not yet counted) is read; the next count catches up */
        lost = eb_imu_fifo_packet(&t, 9000, &index);
        CHECK(lost == 0 && index == 72 && eb_imu_fifo_tail(&t) == 0, "ahead of the count: index %lu",
              (unsigned long)index);
        eb_imu_taken(&t, 110);
        CHECK(eb_imu_fifo_tail(&t) == 0 && t.next_index == 73 && t.lost == 43 + 2 + 1 + 1,
              "after catching up: next %lu lost %lu", (unsigned long)t.next_index, (unsigned long)t.lost);
        CHECK(eb_imu_time(&t, 72) == 9000u, "time of 72: %lu", (unsigned long)eb_imu_time(&t, 72));
    }
    eb_imu_track_run(&t, 900000, 2000, 110); /* a new rate: the index goes on, the grid starts again */
    p = eb_imu_plan_register(&t, 111);
    CHECK(p.first == 73 && eb_imu_time(&t, 73) == 900000u && eb_imu_time(&t, 75) == 904000u, "new run: %lu",
          (unsigned long)p.first);
}

int main(void) {
    test_full_batch();
    test_lost_samples();
    test_whoami();
    test_imu_track();
    test_mpu6050();
    test_icm42688();
    test_mlx90640();
    test_session();
    printf("device tests: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
