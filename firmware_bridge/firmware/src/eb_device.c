/* Device side of an edgebind session; see eb_device.h. */
#include "eb_device.h"

#include <string.h>

static void send(eb_device *d, uint8_t type, uint16_t seq, uint32_t t_us, const uint8_t *body, size_t len,
                 uint8_t *wire, size_t cap) {
    size_t n = eb_frame_encode(type, seq, t_us, body, len, wire, cap);
    if (n) d->write(d->user, wire, n);
}

void eb_device_init(eb_device *d, const eb_info *info, uint8_t batch_max, eb_dev_write_fn write, void *user) {
    unsigned most = EB_DEV_MAX_BATCH; /* a variable: with 255 the comparison below is always false, and fine */
    memset(d, 0, sizeof *d);
    d->info = *info;
    d->batch_max = batch_max < 1 ? 1 : batch_max > most ? (uint8_t)most : batch_max;
    d->write = write;
    d->user = user;
    d->stream_mask = 0x03;
    eb_decoder_init(&d->rx, d->rx_buf, sizeof d->rx_buf);
}

void eb_device_send_info(eb_device *d, uint32_t now_us) {
    size_t n = eb_build_info_seq(d->body, sizeof d->body, &d->info, d->imu_seq, d->thermal_seq);
    if (n) send(d, EB_INFO, 0, now_us, d->body, n, d->wire, sizeof d->wire);
}

void eb_device_log(eb_device *d, uint32_t now_us, uint8_t level, const char *text) {
    size_t n = eb_build_log(d->body, sizeof d->body, level, text);
    if (n) send(d, EB_LOG, d->log_seq++, now_us, d->body, n, d->wire, sizeof d->wire);
}

static uint16_t period_us(float rate_hz) {
    float p = rate_hz > 0.0f ? 1e6f / rate_hz + 0.5f : 0.0f;
    return p >= 65535.0f ? 65535u : (uint16_t)p;
}

void eb_device_flush(eb_device *d) {
    size_t len;
    if (d->n == 0) return;
    len = eb_build_imu_tc(d->body, sizeof d->body, d->n, 1, d->n > 1 ? d->batch_dt_us : 0, d->batch, d->thermal_seq);
    if (len) send(d, EB_IMU, d->imu_seq, d->first_t_us, d->body, len, d->wire, sizeof d->wire);
    d->imu_seq = (uint16_t)(d->imu_seq + d->n); /* a gap on the host if the frame could not be built */
    d->n = 0;
}

void eb_device_imu_lost(eb_device *d, uint32_t lost) {
    if (!lost || !d->streaming || !(d->stream_mask & 0x01u)) return;
    eb_device_flush(d);
    d->imu_seq = (uint16_t)(d->imu_seq + lost); /* mod 2^16, as the host unwraps it */
    d->imu_lost += lost;
}

void eb_device_imu(eb_device *d, uint32_t t_us, const int16_t counts[6]) {
    if (!d->streaming || !(d->stream_mask & 0x01u)) {
        d->n = 0;
        return;
    }
    if (d->n == 0) {
        d->first_t_us = t_us;
        d->batch_dt_us = period_us(d->info.imu_rate_hz);
    }
    memcpy(&d->batch[d->n * 6u], counts, 6u * sizeof counts[0]);
    if (++d->n >= d->batch_max) eb_device_flush(d);
}

int eb_device_thermal(eb_device *d, uint32_t t_us, const eb_thermal *th, const void *pixels, uint8_t *body,
                      size_t body_cap, uint8_t *wire, size_t wire_cap) {
    size_t n;
    if (!d->streaming || !(d->stream_mask & 0x02u)) return 0;
    n = eb_build_thermal(body, body_cap, th, pixels);
    if (!n) return 0;
    send(d, EB_THERMAL, d->thermal_seq, t_us, body, n, wire, wire_cap);
    d->thermal_seq++;
    return 1;
}

void eb_device_set_rates(eb_device *d, uint32_t now_us, float imu_rate_hz, float thermal_rate_hz) {
    static const char digits[] = "0123456789";
    char text[64] = "rates now: imu ";
    size_t pos = strlen(text);
    float rates[2];
    eb_device_flush(d);
    d->info.imu_rate_hz = imu_rate_hz;
    d->info.thermal_rate_hz = thermal_rate_hz;
    rates[0] = imu_rate_hz;
    rates[1] = thermal_rate_hz;
    /* "rates now: imu 1000.000 Hz, thermal 8.000 Hz" without printf, which costs kilobytes on an AVR */
    for (int r = 0; r < 2; r++) {
        uint32_t milli = (uint32_t)(rates[r] * 1000.0f + 0.5f), whole = milli / 1000u, scale = 1;
        char tmp[10];
        size_t k = 0;
        do { tmp[k++] = digits[whole % 10u]; whole /= 10u; } while (whole && k < sizeof tmp);
        while (k) text[pos++] = tmp[--k];
        text[pos++] = '.';
        for (scale = 100; scale; scale /= 10u) text[pos++] = digits[(milli / scale) % 10u];
        memcpy(text + pos, r ? " Hz" : " Hz, thermal ", r ? 4 : 14);
        pos += r ? 3 : 13;
    }
    eb_device_log(d, now_us, EB_LOG_INFO, text);
    eb_device_send_info(d, now_us);
}

uint8_t eb_device_rx(eb_device *d, uint8_t byte, uint32_t now_us, eb_command *cmd) {
    eb_header h;
    const uint8_t *body;
    size_t len;
    if (!eb_decoder_feed(&d->rx, byte, &h, &body, &len)) return 0;
    if (eb_parse_command(&h, body, len, cmd) != EB_OK) return 0;
    switch (cmd->type) {
    case EB_CMD_START:
        eb_device_flush(d); /* a START while streaming (host reconnected) loses no waiting sample */
        d->stream_mask = cmd->stream_mask ? cmd->stream_mask : 0x03u;
        eb_device_send_info(d, now_us);
        d->streaming = 1;
        break;
    case EB_CMD_STOP:
        eb_device_flush(d);
        d->streaming = 0;
        break;
    case EB_CMD_GET_INFO:
        eb_device_send_info(d, now_us);
        break;
    default:
        break;
    }
    return cmd->type;
}
