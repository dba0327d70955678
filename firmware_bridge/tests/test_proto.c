/* Host tests for edgebind_proto.c: golden vectors (shared with the Python tests), streaming decoder, fuzzing.
 * Usage: test_proto path/to/vectors.txt      Prints "N passed, N failed" and exits non-zero on failure.
 */
#include "../src/edgebind_proto.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static uint8_t *from_hex(const char *hex, size_t *len) {
    size_t n = strcmp(hex, "-") == 0 ? 0 : strlen(hex) / 2;
    uint8_t *out = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    *len = n;
    return out;
}

static char *next_tok(void) { return strtok(NULL, " \t\r\n"); }
static long next_long(void) { return strtol(next_tok(), NULL, 10); }
static double next_double(void) { return strtod(next_tok(), NULL); }

/* The body of the most recent F record, for the typed records that follow it. */
static uint8_t *cur_body;
static size_t cur_body_len;
static char cur_name[128];

static void check_frame(const char *name) {
    long type = next_long(), seq = next_long(), t_us;
    size_t body_len, wire_len, n;
    uint8_t *body, *wire, *copy, out[EB_MAX_ENCODED + 1];
    const uint8_t *dbody;
    size_t dlen;
    eb_header h;
    t_us = strtol(next_tok(), NULL, 10);
    body = from_hex(next_tok(), &body_len);
    wire = from_hex(next_tok(), &wire_len);
    n = eb_frame_encode((uint8_t)type, (uint16_t)seq, (uint32_t)t_us, body, body_len, out, sizeof out);
    CHECK(n == wire_len && memcmp(out, wire, n) == 0, "%s: encoded frame differs from golden (%zu vs %zu B)",
          name, n, wire_len);
    CHECK(wire[wire_len - 1] == 0, "%s: golden frame does not end in 0x00", name);
    copy = malloc(wire_len);
    memcpy(copy, wire, wire_len);
    int rc = eb_frame_decode(copy, wire_len - 1, &h, &dbody, &dlen);
    CHECK(rc == EB_OK, "%s: decode returned %d", name, rc);
    if (rc == EB_OK) {
        CHECK(h.version == EB_PROTOCOL_VERSION && h.type == type && h.seq == seq && h.t_us == (uint32_t)t_us,
              "%s: header %u/%u/%u/%lu", name, h.version, h.type, h.seq, (unsigned long)h.t_us);
        CHECK(dlen == body_len && memcmp(dbody, body, dlen) == 0, "%s: decoded body differs", name);
    }
    free(cur_body);
    cur_body = body;
    cur_body_len = body_len;
    snprintf(cur_name, sizeof cur_name, "%s", name);
    free(copy);
    free(wire);
}

static void check_imu(const char *name) {
    eb_imu imu;
    long n = next_long(), flags = next_long(), dt = next_long(), tc = next_long();
    int16_t counts[EB_MAX_IMU_BATCH * 6];
    uint8_t rebuilt[6 + EB_MAX_IMU_BATCH * 12];
    int ok = 1;
    CHECK(strcmp(name, cur_name) == 0, "%s: I record does not follow its F record", name);
    CHECK(eb_parse_imu(cur_body, cur_body_len, &imu) == EB_OK, "%s: parse_imu failed", name);
    CHECK(imu.n == n && imu.flags == flags && imu.dt_us == dt, "%s: n/flags/dt %u/%u/%u", name, imu.n, imu.flags,
          imu.dt_us);
    CHECK(tc < 0 ? !(imu.flags & EB_IMU_HAS_THERMAL_COUNT) : imu.thermal_count == tc, "%s: thermal count %u vs %ld",
          name, imu.thermal_count, tc);
    for (long i = 0; i < n * imu.channels; i++) {
        counts[i] = (int16_t)next_long();
        ok &= eb_imu_count(&imu, (size_t)i / imu.channels, (size_t)i % imu.channels) == counts[i];
    }
    CHECK(ok, "%s: decoded counts differ", name);
    size_t len = tc < 0 ? eb_build_imu(rebuilt, sizeof rebuilt, (uint8_t)n, (int)(flags & 1), (uint16_t)dt, counts)
                        : eb_build_imu_tc(rebuilt, sizeof rebuilt, (uint8_t)n, (int)(flags & 1), (uint16_t)dt, counts,
                                          (uint16_t)tc);
    CHECK(len == cur_body_len && memcmp(rebuilt, cur_body, len) == 0, "%s: rebuilt IMU body differs", name);
}

static void check_thermal(const char *name) {
    eb_thermal th, want;
    want.sensor = (uint8_t)next_long();
    want.encoding = (uint8_t)next_long();
    want.width = (uint16_t)next_long();
    want.height = (uint16_t)next_long();
    want.scale = (float)next_double();
    want.offset = (float)next_double();
    size_t count = (size_t)want.width * want.height;
    float *fpx = malloc(count * sizeof(float));
    uint16_t *upx = malloc(count * sizeof(uint16_t));
    uint8_t *rebuilt = malloc(EB_THERMAL_HEADER_SIZE + count * 4);
    int ok = 1;
    CHECK(eb_parse_thermal(cur_body, cur_body_len, &th) == EB_OK, "%s: parse_thermal failed", name);
    CHECK(th.sensor == want.sensor && th.encoding == want.encoding && th.width == want.width &&
          th.height == want.height && th.scale == want.scale && th.offset == want.offset, "%s: header differs", name);
    for (size_t i = 0; i < count; i++) {
        double v = next_double();
        fpx[i] = (float)v;
        upx[i] = (uint16_t)(int32_t)lround(v);
        float c = eb_thermal_celsius(&th, i);
        ok &= fabs(c - (v * want.scale + want.offset)) < 1e-3;
    }
    CHECK(ok, "%s: decoded degrees C differ", name);
    size_t len = eb_build_thermal(rebuilt, EB_THERMAL_HEADER_SIZE + count * 4, &want,
                                  want.encoding == EB_PIX_FLOAT32 ? (const void *)fpx : (const void *)upx);
    CHECK(len == cur_body_len && memcmp(rebuilt, cur_body, len) == 0, "%s: rebuilt THERMAL body differs", name);
    free(fpx);
    free(upx);
    free(rebuilt);
}

static void check_info(const char *name) {
    eb_info info, want;
    char strings[3][256];
    uint8_t rebuilt[1024];
    want.accel_lsb_mps2 = (float)next_double();
    want.gyro_lsb_rads = (float)next_double();
    want.imu_rate_hz = (float)next_double();
    want.thermal_rate_hz = (float)next_double();
    want.accel_fs_g = (uint16_t)next_long();
    want.gyro_fs_dps = (uint16_t)next_long();
    want.flags = (uint8_t)next_long();
    char *fw = strdup(next_tok()), *imu = strdup(next_tok()), *th = strdup(next_tok());
    long want_imu_next = next_long(), want_thermal_next = next_long();
    uint16_t imu_next = 0, thermal_next = 0;
    want.firmware = fw;
    want.imu_sensor = imu;
    want.thermal_sensor = th;
    CHECK(eb_parse_info(cur_body, cur_body_len, &info, strings) == EB_OK, "%s: parse_info failed", name);
    CHECK(info.accel_lsb_mps2 == want.accel_lsb_mps2 && info.gyro_lsb_rads == want.gyro_lsb_rads &&
          info.imu_rate_hz == want.imu_rate_hz && info.accel_fs_g == want.accel_fs_g &&
          info.gyro_fs_dps == want.gyro_fs_dps && info.flags == want.flags, "%s: INFO fields differ", name);
    CHECK(eb_info_next_seq(cur_body, cur_body_len, &imu_next, &thermal_next) == 1 && imu_next == want_imu_next &&
          thermal_next == want_thermal_next, "%s: INFO counters %u/%u", name, imu_next, thermal_next);
    CHECK(strcmp(info.firmware, fw) == 0 && strcmp(info.imu_sensor, imu) == 0 && strcmp(info.thermal_sensor, th) == 0,
          "%s: INFO strings differ", name);
    size_t len = eb_build_info_seq(rebuilt, sizeof rebuilt, &want, (uint16_t)want_imu_next,
                                   (uint16_t)want_thermal_next);
    CHECK(eb_build_info(rebuilt + 512, 512, &want) + EB_INFO_COUNTERS_SIZE == len &&
          eb_info_next_seq(rebuilt + 512, len - EB_INFO_COUNTERS_SIZE, &imu_next, &thermal_next) == 0,
          "%s: a v1 INFO body has no counters", name);
    CHECK(len == cur_body_len && memcmp(rebuilt, cur_body, len) == 0, "%s: rebuilt INFO body differs", name);
    free(fw);
    free(imu);
    free(th);
}

static void check_command(const char *name) {
    eb_command cmd, want;
    eb_header h = {EB_PROTOCOL_VERSION, 0, 0, 0};
    uint8_t rebuilt[16];
    want.type = (uint8_t)next_long();
    want.stream_mask = (uint8_t)next_long();
    want.stream = (uint8_t)next_long();
    want.rate_hz = (float)next_double();
    h.type = want.type;
    CHECK(eb_parse_command(&h, cur_body, cur_body_len, &cmd) == EB_OK, "%s: parse_command failed", name);
    if (want.type == EB_CMD_START)
        CHECK(cmd.stream_mask == (want.stream_mask ? want.stream_mask : 3), "%s: stream mask %u", name, cmd.stream_mask);
    if (want.type == EB_CMD_SET_RATE)
        CHECK(cmd.stream == want.stream && cmd.rate_hz == want.rate_hz, "%s: set_rate %u %g", name, cmd.stream,
              cmd.rate_hz);
    size_t len = eb_build_command(rebuilt, sizeof rebuilt, &want);
    CHECK(len == cur_body_len && memcmp(rebuilt, cur_body, len) == 0, "%s: rebuilt command body differs", name);
}

static void check_log(const char *name) {
    long level = next_long();
    size_t text_len;
    uint8_t *text = from_hex(next_tok(), &text_len), rebuilt[512];
    text[text_len] = 0;
    size_t len = eb_build_log(rebuilt, sizeof rebuilt, (uint8_t)level, (const char *)text);
    CHECK(len == cur_body_len && memcmp(rebuilt, cur_body, len) == 0, "%s: rebuilt LOG body differs", name);
    free(text);
}

static void check_cobs(const char *name) {
    size_t raw_len, enc_len;
    uint8_t *raw = from_hex(next_tok(), &raw_len), *enc = from_hex(next_tok(), &enc_len);
    uint8_t out[1024];
    size_t n = eb_cobs_encode(raw, raw_len, out, sizeof out);
    CHECK(n == enc_len && memcmp(out, enc, n) == 0, "%s: COBS encoding differs (%zu vs %zu B)", name, n, enc_len);
    long m = eb_cobs_decode(enc, enc_len, out, sizeof out);
    CHECK(m == (long)raw_len && memcmp(out, raw, raw_len) == 0, "%s: COBS decoding differs", name);
    free(raw);
    free(enc);
}

static void check_crc(const char *name) {
    size_t len;
    uint8_t *data = from_hex(next_tok(), &len);
    long want = next_long();
    CHECK(eb_crc16(data, len) == want, "%s: crc %04x, want %04lx", name, eb_crc16(data, len), want);
    free(data);
}

static int run_golden(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); return 0; }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    size_t got = fread(text, 1, (size_t)size, f);
    text[got] = 0;
    fclose(f);
    int records = 0;
    char *save_line = NULL;
    /* Records are one per line; split lines first, then tokens inside each line. */
    for (char *line = strtok_r(text, "\n", &save_line); line; line = strtok_r(NULL, "\n", &save_line)) {
        if (line[0] == '#') continue;
        char *kind = strtok(line, " \t\r");
        char *name = next_tok();
        records++;
        switch (kind[0]) {
        case 'F': check_frame(name); break;
        case 'I': check_imu(name); break;
        case 'T': check_thermal(name); break;
        case 'N': check_info(name); break;
        case 'C': check_command(name); break;
        case 'L': check_log(name); break;
        case 'B': check_cobs(name); break;
        case 'R': check_crc(name); break;
        default: CHECK(0, "unknown record kind %s", kind);
        }
    }
    free(text);
    return records;
}

static uint32_t rng_state = 12345u;
static uint32_t rnd(void) { rng_state = rng_state * 1664525u + 1013904223u; return rng_state >> 8; }

static void test_roundtrip_random(void) {
    static uint8_t body[4096], out[EB_MAX_ENCODED];
    int ok = 1;
    for (int k = 0; k < 2000; k++) {
        size_t len = rnd() % sizeof body;
        for (size_t i = 0; i < len; i++) body[i] = (rnd() % 4 == 0) ? 0 : (uint8_t)rnd();
        size_t n = eb_frame_encode(EB_LOG, (uint16_t)k, rnd(), body, len, out, sizeof out);
        for (size_t i = 0; i + 1 < n; i++) ok &= out[i] != 0;
        eb_header h;
        const uint8_t *b;
        size_t blen;
        ok &= n > 0 && out[n - 1] == 0 && eb_frame_decode(out, n - 1, &h, &b, &blen) == EB_OK;
        ok &= blen == len && memcmp(b, body, len) == 0 && h.seq == (uint16_t)k;
    }
    CHECK(ok, "random frames do not round-trip");
    uint8_t small[8];
    CHECK(eb_frame_encode(EB_LOG, 0, 0, body, 100, small, sizeof small) == 0, "encode into a too-small buffer");
}

static void test_stream_decoder(void) {
    static uint8_t stream[1 << 16], buf[EB_MAX_ENCODED], body[64];
    size_t pos = 0;
    int16_t counts[6] = {1, 0, -1, 256, 0, 7};
    /* garbage first (mid-frame join), then 100 IMU frames; frame 10 gets a bit flip, frame 20 loses a byte */
    for (int i = 0; i < 13; i++) stream[pos++] = (uint8_t)(0x41 + i);
    stream[pos++] = 0; /* the tail of a frame sent before the host connected */
    size_t frame_start[100];
    for (int k = 0; k < 100; k++) {
        size_t blen = eb_build_imu(body, sizeof body, 1, 1, 0, counts);
        frame_start[k] = pos;
        pos += eb_frame_encode(EB_IMU, (uint16_t)k, (uint32_t)k * 1000u, body, blen, stream + pos, sizeof stream - pos);
    }
    stream[frame_start[10] + 5] ^= stream[frame_start[10] + 5] == 0x10 ? 0x20 : 0x10; /* never makes a 0x00 */
    memmove(stream + frame_start[20] + 3, stream + frame_start[20] + 4, pos - frame_start[20] - 4);
    pos--;
    eb_decoder d;
    eb_decoder_init(&d, buf, sizeof buf);
    eb_header h;
    const uint8_t *b;
    size_t blen;
    int frames = 0, in_order = 1, last = -1;
    for (size_t i = 0; i < pos; i++) {
        if (eb_decoder_feed(&d, stream[i], &h, &b, &blen)) {
            frames++;
            in_order &= (int)h.seq > last;
            last = h.seq;
        }
    }
    CHECK(frames == 98, "decoded %d of 98 intact frames", frames);
    CHECK(in_order, "frames out of order");
    CHECK(d.crc_failures + d.cobs_errors + d.bad_length == 2, "counted %u+%u+%u bad frames, want 2", d.crc_failures,
          d.cobs_errors, d.bad_length);
    CHECK(d.resyncs == 3 && d.bytes_discarded > 14, "resyncs %u, discarded %u", d.resyncs, d.bytes_discarded);
}

/* v2 decoders accept v1 frames (version byte 1, IMU body without the thermal count) and refuse newer versions. */
static void test_versions(void) {
    uint8_t body[64], wire[128];
    int16_t counts[6] = {1, 2, 3, 4, 5, 6};
    eb_header h;
    const uint8_t *b;
    size_t blen;
    eb_imu imu;
    for (uint8_t version = 1; version <= 3; version++) {
        size_t len = eb_build_imu(body, sizeof body, 1, 1, 0, counts);
        uint8_t payload[80];
        payload[0] = version; payload[1] = EB_IMU; payload[2] = 5; payload[3] = 0;
        memset(payload + 4, 0, 4);
        memcpy(payload + EB_HEADER_SIZE, body, len);
        uint16_t crc = eb_crc16(payload, EB_HEADER_SIZE + len);
        payload[EB_HEADER_SIZE + len] = (uint8_t)(crc & 0xFF);
        payload[EB_HEADER_SIZE + len + 1] = (uint8_t)(crc >> 8);
        size_t n = eb_cobs_encode(payload, EB_HEADER_SIZE + len + 2, wire, sizeof wire);
        int rc = eb_frame_decode(wire, n, &h, &b, &blen);
        if (version <= EB_PROTOCOL_VERSION) {
            CHECK(rc == EB_OK && h.version == version, "version %u frame: decode returned %d", version, rc);
            CHECK(eb_parse_imu(b, blen, &imu) == EB_OK && imu.thermal_count == 0 && eb_imu_count(&imu, 0, 5) == 6,
                  "version %u IMU body without thermal count does not parse", version);
        } else {
            CHECK(rc == EB_ERR_VERSION, "version %u frame: decode returned %d, want EB_ERR_VERSION", version, rc);
        }
    }
    size_t len = eb_build_imu_tc(body, sizeof body, 1, 1, 0, counts, 300);
    CHECK(eb_parse_imu(body, len, &imu) == EB_OK && imu.thermal_count == 300 && eb_imu_count(&imu, 0, 2) == 3,
          "IMU body with thermal count does not round-trip");
    CHECK(eb_parse_imu(body, EB_IMU_HEADER_SIZE + 1, &imu) == EB_ERR_LENGTH, "truncated thermal count accepted");
}

static void test_fuzz(void) {
    static uint8_t buf[512];
    eb_decoder d;
    eb_header h;
    const uint8_t *b;
    size_t blen;
    eb_decoder_init(&d, buf, sizeof buf); /* small buffer: overflow path too */
    for (long i = 0; i < 2000000; i++) {
        uint8_t byte = (rnd() % 16 == 0) ? 0 : (uint8_t)rnd();
        if (eb_decoder_feed(&d, byte, &h, &b, &blen)) CHECK(blen + EB_HEADER_SIZE + EB_CRC_SIZE <= sizeof buf, "len");
    }
    CHECK(d.resyncs > 0, "fuzz input produced no resyncs");
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s vectors.txt\n", argv[0]); return 2; }
    int records = run_golden(argv[1]);
    CHECK(records > 20, "only %d golden records read from %s", records, argv[1]);
    test_roundtrip_random();
    test_stream_decoder();
    test_versions();
    test_fuzz();
    free(cur_body);
    printf("golden records: %d\n%d passed, %d failed\n", records, passed, failed);
    return failed ? 1 : 0;
}
