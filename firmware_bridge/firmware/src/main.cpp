// edgebind reference firmware: reads an ICM-42688-P (or MPU-6050) IMU and an MLX90640 over I2C and streams them
// in the edgebind protocol v1 (../../PROTOCOL.md) through the portable C library in ../../src.
//
// Session rule (PROTOCOL.md "Session"): nothing is sent until the host sends START; the device then sends INFO
// and streams; STOP pauses; GET_INFO resends INFO; SET_RATE changes the IMU output data rate or the MLX90640
// refresh rate and is acknowledged with a LOG frame.
//
// Two I2C buses so the slow MLX90640 read (tens of ms per sub-page at 1 MHz) never delays an IMU sample:
// IMU on Wire, MLX90640 on Wire1. On the ESP32-S3 the thermal camera runs in its own FreeRTOS task; frames are
// written under a mutex so frames never interleave on the wire. Register addresses are from the InvenSense
// ICM-42688-P (DS-000347) and MPU-6000/6050 register map (RM-MPU-6000A) datasheets; check them on your part.
#include <Arduino.h>
#include <Wire.h>
#include <Adafruit_MLX90640.h>

extern "C" {
#include "edgebind_proto.h"
}

#ifndef EB_IMU_RATE_HZ
#define EB_IMU_RATE_HZ 1000
#endif
#ifndef EB_THERMAL_RATE_HZ
#define EB_THERMAL_RATE_HZ 8
#endif
#define EB_FIRMWARE "edgebind-ref-0.1.0"
#define IMU_BATCH 10  // ~100 frames/s at 1 kHz: 13.6 B/sample on the wire (PROTOCOL.md link budget)

static const float G = 9.80665f;
static const float DEG = 0.017453292519943295f;

#ifdef EB_IMU_MPU6050
static const uint8_t IMU_ADDR = 0x68;
static const char *IMU_NAME = "MPU-6050";
static const float ACCEL_LSB = 16.0f * G / 32768.0f;       // +-16 g
static const float GYRO_LSB = 2000.0f * DEG / 32768.0f;    // +-2000 dps
#else
static const uint8_t IMU_ADDR = 0x68;  // AD0 low
static const char *IMU_NAME = "ICM-42688-P";
static const float ACCEL_LSB = 16.0f * G / 32768.0f;
static const float GYRO_LSB = 2000.0f * DEG / 32768.0f;
#endif

static Adafruit_MLX90640 mlx;
static bool have_mlx = false;
static volatile bool streaming = false;
static volatile uint8_t stream_mask = 0x03;
static volatile float imu_rate_hz = EB_IMU_RATE_HZ;
static volatile float thermal_rate_hz = EB_THERMAL_RATE_HZ;

#define THERMAL_BODY_BYTES (EB_THERMAL_HEADER_SIZE + 32 * 24 * 2)
#define WIRE_BYTES(body) (EB_HEADER_SIZE + (body) + EB_CRC_SIZE + ((body) + 10) / 254 + 2)  // COBS + 0x00
static uint8_t rx_buf[64];
static eb_decoder rx;
static uint16_t imu_seq = 0, thermal_seq = 0, log_seq = 0;

#if defined(ARDUINO_ARCH_ESP32)
static SemaphoreHandle_t tx_mutex;
#define TX_LOCK() xSemaphoreTake(tx_mutex, portMAX_DELAY)
#define TX_UNLOCK() xSemaphoreGive(tx_mutex)
#elif defined(ARDUINO_ARCH_RP2040)
#include <pico/mutex.h>
static mutex_t tx_mutex;  // the thermal camera runs on core 1 (loop1), the IMU on core 0
#define TX_LOCK() mutex_enter_blocking(&tx_mutex)
#define TX_UNLOCK() mutex_exit(&tx_mutex)
#else
#define TX_LOCK()
#define TX_UNLOCK()
#endif

// ---------------------------------------------------------------- framing helpers
static void send_frame(uint8_t type, uint16_t seq, uint32_t t_us, const uint8_t *b, size_t len, uint8_t *out,
                       size_t cap) {
    size_t n = eb_frame_encode(type, seq, t_us, b, len, out, cap);
    if (n) {
        TX_LOCK();
        Serial.write(out, n);
        TX_UNLOCK();
    }
}

static void send_log(uint8_t level, const char *text) {
    static uint8_t lb[200], lw[WIRE_BYTES(sizeof(lb))];
    size_t n = eb_build_log(lb, sizeof lb, level, text);
    if (n) send_frame(EB_LOG, log_seq++, micros(), lb, n, lw, sizeof lw);
}

static void send_info() {
    static uint8_t ib[256], iw[WIRE_BYTES(sizeof(ib))];
    eb_info info = {ACCEL_LSB, GYRO_LSB, imu_rate_hz, have_mlx ? (float)thermal_rate_hz : 0.0f, 16, 2000,
                    (uint8_t)(EB_INFO_HAS_GYRO | (have_mlx ? EB_INFO_HAS_THERMAL : 0)), EB_FIRMWARE, IMU_NAME,
                    have_mlx ? "MLX90640" : ""};
    size_t n = eb_build_info(ib, sizeof ib, &info);
    if (n) send_frame(EB_INFO, 0, micros(), ib, n, iw, sizeof iw);
}

// ---------------------------------------------------------------- IMU
static void imu_write(uint8_t reg, uint8_t value) {
    Wire.beginTransmission(IMU_ADDR);
    Wire.write(reg);
    Wire.write(value);
    Wire.endTransmission();
}

static bool imu_read(uint8_t reg, uint8_t *dst, size_t n) {
    Wire.beginTransmission(IMU_ADDR);
    Wire.write(reg);
    if (Wire.endTransmission(false) != 0) return false;
    if (Wire.requestFrom((int)IMU_ADDR, (int)n) != (int)n) return false;
    for (size_t i = 0; i < n; i++) dst[i] = Wire.read();
    return true;
}

#ifdef EB_IMU_MPU6050
static bool imu_begin(float rate_hz) {
    uint8_t who = 0;
    if (!imu_read(0x75, &who, 1) || who != 0x68) return false;  // WHO_AM_I
    imu_write(0x6B, 0x01);                                      // PWR_MGMT_1: wake, PLL on gyro X
    imu_write(0x1A, 0x01);                                      // CONFIG: DLPF 184 Hz -> 1 kHz internal rate
    imu_write(0x19, (uint8_t)(1000.0f / rate_hz - 1.0f));       // SMPLRT_DIV
    imu_write(0x1B, 0x18);                                      // GYRO_CONFIG: +-2000 dps
    imu_write(0x1C, 0x18);                                      // ACCEL_CONFIG: +-16 g
    return true;
}

static bool imu_sample(int16_t *out6) {
    uint8_t raw[14];
    if (!imu_read(0x3B, raw, 14)) return false;  // ACCEL_XOUT_H.. (accel, temperature, gyro), big-endian
    for (int i = 0; i < 3; i++) out6[i] = (int16_t)((raw[2 * i] << 8) | raw[2 * i + 1]);
    for (int i = 0; i < 3; i++) out6[3 + i] = (int16_t)((raw[8 + 2 * i] << 8) | raw[9 + 2 * i]);
    return true;
}
#else
static uint8_t icm_odr_code(float rate_hz) {  // GYRO/ACCEL_CONFIG0 ODR field
    if (rate_hz >= 2000) return 0x05;
    if (rate_hz >= 1000) return 0x06;
    if (rate_hz >= 500) return 0x0F;
    if (rate_hz >= 200) return 0x07;
    if (rate_hz >= 100) return 0x08;
    return 0x09;  // 50 Hz
}

static float icm_odr_hz(uint8_t code) {
    switch (code) {
    case 0x05: return 2000; case 0x06: return 1000; case 0x0F: return 500;
    case 0x07: return 200; case 0x08: return 100; default: return 50;
    }
}

static bool imu_begin(float rate_hz) {
    uint8_t who = 0;
    if (!imu_read(0x75, &who, 1) || who != 0x47) return false;  // WHO_AM_I of ICM-42688-P
    uint8_t odr = icm_odr_code(rate_hz);
    imu_write(0x50, (uint8_t)(0x00 << 5) | odr);  // ACCEL_CONFIG0: +-16 g, ODR
    imu_write(0x4F, (uint8_t)(0x00 << 5) | odr);  // GYRO_CONFIG0: +-2000 dps, ODR
    imu_write(0x4E, 0x0F);                        // PWR_MGMT0: accel and gyro in low-noise mode
    delay(1);
    imu_rate_hz = icm_odr_hz(odr);  // the rate the chip really runs at goes into INFO
    return true;
}

static bool imu_sample(int16_t *out6) {
    uint8_t raw[12];
    if (!imu_read(0x1F, raw, 12)) return false;  // ACCEL_DATA_X1.. GYRO_DATA_Z0, big-endian
    for (int i = 0; i < 6; i++) out6[i] = (int16_t)((raw[2 * i] << 8) | raw[2 * i + 1]);
    return true;
}
#endif

// ---------------------------------------------------------------- thermal
static mlx90640_refreshrate_t mlx_rate(float hz) {
    if (hz >= 16) return MLX90640_16_HZ;
    if (hz >= 8) return MLX90640_8_HZ;
    if (hz >= 4) return MLX90640_4_HZ;
    if (hz >= 2) return MLX90640_2_HZ;
    return MLX90640_1_HZ;
}

static void thermal_once() {
    static float frame[32 * 24];
    static int16_t centi[32 * 24];
    static uint8_t tb[THERMAL_BODY_BYTES];
    static uint8_t tw[WIRE_BYTES(THERMAL_BODY_BYTES)];
    if (mlx.getFrame(frame) != 0) {
        send_log(EB_LOG_WARNING, "mlx90640: frame read failed");
        return;
    }
    uint32_t t_us = micros();  // end of the second sub-page
    for (int i = 0; i < 32 * 24; i++) centi[i] = (int16_t)lroundf(frame[i] * 100.0f);
    eb_thermal th = {EB_SENSOR_MLX90640, EB_PIX_INT16, 32, 24, 0.01f, 0.0f, nullptr};
    size_t n = eb_build_thermal(tb, sizeof tb, &th, centi);
    if (n && streaming && (stream_mask & 0x02)) send_frame(EB_THERMAL, thermal_seq++, t_us, tb, n, tw, sizeof tw);
}

#if defined(ARDUINO_ARCH_ESP32)
static void thermal_task(void *) {
    for (;;) {
        if (have_mlx && streaming) thermal_once();
        else vTaskDelay(pdMS_TO_TICKS(10));
    }
}
#elif defined(ARDUINO_ARCH_RP2040)
void loop1() {  // arduino-pico runs loop1() on the second core
    if (have_mlx && streaming) thermal_once();
    else delay(10);
}
#endif

// ---------------------------------------------------------------- commands
static void handle_command(const eb_header &h, const uint8_t *b, size_t len) {
    eb_command cmd;
    char text[96];
    if (eb_parse_command(&h, b, len, &cmd) != EB_OK) return;
    switch (cmd.type) {
    case EB_CMD_START:
        stream_mask = cmd.stream_mask;
        send_info();
        streaming = true;
        break;
    case EB_CMD_STOP:
        streaming = false;
        break;
    case EB_CMD_GET_INFO:
        send_info();
        break;
    case EB_CMD_SET_RATE:
        if (cmd.stream == EB_STREAM_IMU) {
            imu_begin(cmd.rate_hz);
#ifdef EB_IMU_MPU6050
            imu_rate_hz = cmd.rate_hz;
#endif
        } else if (have_mlx) {
            mlx.setRefreshRate(mlx_rate(cmd.rate_hz));
            thermal_rate_hz = cmd.rate_hz;
        }
        snprintf(text, sizeof text, "set_rate stream %u -> %.1f Hz", cmd.stream,
                 cmd.stream == EB_STREAM_IMU ? (double)imu_rate_hz : (double)thermal_rate_hz);
        send_log(EB_LOG_INFO, text);
        send_info();
        break;
    }
}

static void poll_commands() {
    eb_header h;
    const uint8_t *b;
    size_t len;
    while (Serial.available() > 0) {
        if (eb_decoder_feed(&rx, (uint8_t)Serial.read(), &h, &b, &len)) handle_command(h, b, len);
    }
}

// ---------------------------------------------------------------- main loop
void setup() {
    Serial.begin(921600);
    eb_decoder_init(&rx, rx_buf, sizeof rx_buf);
#if defined(ARDUINO_ARCH_ESP32)
    tx_mutex = xSemaphoreCreateMutex();
    Wire.begin(EB_IMU_SDA, EB_IMU_SCL, 1000000);
    Wire1.begin(EB_MLX_SDA, EB_MLX_SCL, 1000000);
#else
    mutex_init(&tx_mutex);
    Wire.setSDA(EB_IMU_SDA); Wire.setSCL(EB_IMU_SCL); Wire.setClock(1000000); Wire.begin();
    Wire1.setSDA(EB_MLX_SDA); Wire1.setSCL(EB_MLX_SCL); Wire1.setClock(1000000); Wire1.begin();
#endif
    bool imu_ok = imu_begin(imu_rate_hz);
    have_mlx = mlx.begin(MLX90640_I2CADDR_DEFAULT, &Wire1);
    if (have_mlx) {
        mlx.setMode(MLX90640_CHESS);
        mlx.setResolution(MLX90640_ADC_18BIT);
        mlx.setRefreshRate(mlx_rate(thermal_rate_hz));
    }
    if (!imu_ok) send_log(EB_LOG_ERROR, "imu: WHO_AM_I mismatch; check wiring and the address (AD0)");
#if defined(ARDUINO_ARCH_ESP32)
    xTaskCreatePinnedToCore(thermal_task, "mlx90640", 8192, nullptr, 1, nullptr, 0);
#endif
}

void loop() {
    static int16_t batch[IMU_BATCH * 6];
    static uint8_t n = 0;
    static uint32_t first_t_us = 0, next_us = 0;
    static uint8_t ib[EB_IMU_HEADER_SIZE + IMU_BATCH * 12], iw[WIRE_BYTES(sizeof(ib))];
    poll_commands();
    if (!streaming || !(stream_mask & 0x01)) {
        n = 0;
        return;
    }
    uint32_t period_us = (uint32_t)(1e6f / imu_rate_hz);
    uint32_t now = micros();
    if ((int32_t)(now - next_us) < 0) return;
    next_us = (next_us == 0 || (int32_t)(now - next_us) > (int32_t)(4 * period_us)) ? now + period_us
                                                                                   : next_us + period_us;
    if (!imu_sample(&batch[n * 6])) return;
    if (n == 0) first_t_us = now;
    if (++n == IMU_BATCH) {
        // dt is the nominal period; the host checks it against the INFO rate and the timestamps
        size_t len = eb_build_imu(ib, sizeof ib, n, 1, (uint16_t)period_us, batch);
        send_frame(EB_IMU, imu_seq, first_t_us, ib, len, iw, sizeof iw);
        imu_seq = (uint16_t)(imu_seq + n);
        n = 0;
    }
}
