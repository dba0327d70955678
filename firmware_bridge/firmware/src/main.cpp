// edgebind reference firmware: reads an ICM-42688-P (or MPU-6050) IMU and an MLX90640 over I2C and streams them
// in the edgebind protocol v1 (../../PROTOCOL.md) through the portable C library in ../../src.
//
// Session rule (PROTOCOL.md "Session"): nothing is sent until the host sends START; the device then sends INFO
// and streams; STOP pauses; GET_INFO resends INFO; SET_RATE changes the IMU output data rate or the MLX90640
// refresh rate and is acknowledged with a LOG frame.
//
// The session (START/STOP/GET_INFO, IMU batching, sequence numbers) is eb_device.c and the rate arithmetic is
// eb_rates.c: portable C shared with the synthetic-sensor firmware that CI builds and runs in QEMU (../../emu/),
// and tested on the host (../../tests/test_device.c). This file only talks to the chips.
//
// Rates: INFO always carries what the hardware really runs at (the MPU-6050 divider rounds, the ICM-42688 has
// a fixed ODR table, the MLX90640 refresh register counts sub-pages, two per frame). Each IMU sample is read
// once per data-ready flag (INT_STATUS), so none is duplicated or skipped; the MPU-6050 bus runs at its 400 kHz
// maximum.
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
#include "eb_device.h"
#include "eb_rates.h"
}

#ifndef EB_IMU_RATE_HZ
#define EB_IMU_RATE_HZ 1000
#endif
#ifndef EB_THERMAL_RATE_HZ
#define EB_THERMAL_RATE_HZ 8
#endif
#define EB_FIRMWARE "edgebind-ref-0.2.0"

static const float G = 9.80665f;
static const float DEG = 0.017453292519943295f;

static const uint8_t IMU_ADDR = 0x68;  // AD0 low
#ifdef EB_IMU_MPU6050
static const char *IMU_NAME = "MPU-6050";
static const uint32_t IMU_I2C_HZ = EB_I2C_HZ_MPU6050;  // 400 kHz: the part's fast-mode maximum
#else
static const char *IMU_NAME = "ICM-42688-P";
static const uint32_t IMU_I2C_HZ = EB_I2C_HZ_ICM42688;
#endif
static const float ACCEL_LSB = 16.0f * G / 32768.0f;     // +-16 g on both parts
static const float GYRO_LSB = 2000.0f * DEG / 32768.0f;  // +-2000 dps on both parts

static Adafruit_MLX90640 mlx;
static bool have_mlx = false;
static eb_device dev;

#define THERMAL_BODY_BYTES (EB_THERMAL_HEADER_SIZE + 32 * 24 * 2)

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

// Every eb_device call runs under TX_LOCK: frames never interleave on the wire, and the session's scratch
// buffers are shared by the IMU loop and the thermal task.
static void write_serial(void *, const uint8_t *data, size_t len) { Serial.write(data, len); }

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
static const uint8_t DATA_RDY_REG = 0x3A, DATA_RDY_BIT = 0x01;  // INT_STATUS.DATA_RDY_INT, cleared on read

// Returns the rate the chip really runs at (INFO), or 0 when the chip did not answer.
static float imu_begin(float rate_hz) {
    uint8_t who = 0, div = 0;
    float achieved = 0;
    if (!imu_read(0x75, &who, 1) || who != 0x68) return 0;                  // WHO_AM_I
    if (eb_mpu6050_rate(rate_hz, 1000.0f, &div, &achieved) != EB_RATE_OK) return 0;
    imu_write(0x6B, 0x01);  // PWR_MGMT_1: wake, PLL on gyro X
    imu_write(0x1A, 0x01);  // CONFIG: DLPF 184 Hz -> 1 kHz gyro output rate
    imu_write(0x19, div);   // SMPLRT_DIV, range-checked: 1 kHz / (1 + div)
    imu_write(0x1B, 0x18);  // GYRO_CONFIG: +-2000 dps
    imu_write(0x1C, 0x18);  // ACCEL_CONFIG: +-16 g
    imu_write(0x38, 0x01);  // INT_ENABLE: DATA_RDY_EN
    return achieved;
}

static bool imu_sample(int16_t *out6) {
    uint8_t raw[14];
    if (!imu_read(0x3B, raw, 14)) return false;  // ACCEL_XOUT_H.. (accel, temperature, gyro), big-endian
    for (int i = 0; i < 3; i++) out6[i] = (int16_t)((raw[2 * i] << 8) | raw[2 * i + 1]);
    for (int i = 0; i < 3; i++) out6[3 + i] = (int16_t)((raw[8 + 2 * i] << 8) | raw[9 + 2 * i]);
    return true;
}
#else
static const uint8_t DATA_RDY_REG = 0x2D, DATA_RDY_BIT = 0x08;  // INT_STATUS.DATA_RDY_INT, cleared on read

static float imu_begin(float rate_hz) {
    uint8_t who = 0, odr = 0;
    float achieved = 0;
    if (!imu_read(0x75, &who, 1) || who != 0x47) return 0;  // WHO_AM_I of ICM-42688-P
    if (eb_icm42688_rate(rate_hz, &odr, &achieved) != EB_RATE_OK) return 0;
    imu_write(0x50, (uint8_t)(0x00 << 5) | odr);  // ACCEL_CONFIG0: +-16 g, ODR
    imu_write(0x4F, (uint8_t)(0x00 << 5) | odr);  // GYRO_CONFIG0: +-2000 dps, ODR
    imu_write(0x65, 0x08);                        // INT_SOURCE0: UI_DRDY_INT1_EN
    imu_write(0x4E, 0x0F);                        // PWR_MGMT0: accel and gyro in low-noise mode
    delay(1);
    return achieved;
}

static bool imu_sample(int16_t *out6) {
    uint8_t raw[12];
    if (!imu_read(0x1F, raw, 12)) return false;  // ACCEL_DATA_X1.. GYRO_DATA_Z0, big-endian
    for (int i = 0; i < 6; i++) out6[i] = (int16_t)((raw[2 * i] << 8) | raw[2 * i + 1]);
    return true;
}
#endif

// A new sample exists only when the chip says so: reading on a timer alone repeats a sample when the timer runs
// ahead of the chip's clock and skips one when it runs behind.
static bool imu_data_ready() {
    uint8_t status = 0;
    return imu_read(DATA_RDY_REG, &status, 1) && (status & DATA_RDY_BIT);
}

// ---------------------------------------------------------------- thermal
static const mlx90640_refreshrate_t MLX_SETTINGS[8] = {MLX90640_0_5_HZ, MLX90640_1_HZ,  MLX90640_2_HZ,
                                                       MLX90640_4_HZ,   MLX90640_8_HZ,  MLX90640_16_HZ,
                                                       MLX90640_32_HZ,  MLX90640_64_HZ};

// Sets the refresh register for frame_hz full frames/s; returns the frames/s it really gives (0 on error).
static float thermal_begin(float frame_hz) {
    uint8_t code = 0;
    float achieved = 0;
    if (eb_mlx90640_rate(frame_hz, EB_I2C_HZ_MLX90640, &code, &achieved) != EB_RATE_OK) return 0;
    mlx.setRefreshRate(MLX_SETTINGS[code]);
    return achieved;
}

static void thermal_once() {
    static float frame[32 * 24];
    static int16_t centi[32 * 24];
    static uint8_t tb[THERMAL_BODY_BYTES];
    static uint8_t tw[EB_DEV_WIRE_CAP(THERMAL_BODY_BYTES)];
    if (mlx.getFrame(frame) != 0) {  // reads both sub-pages
        TX_LOCK();
        eb_device_log(&dev, micros(), EB_LOG_WARNING, "mlx90640: frame read failed");
        TX_UNLOCK();
        return;
    }
    uint32_t t_us = micros();  // end of the second sub-page
    for (int i = 0; i < 32 * 24; i++) centi[i] = (int16_t)lroundf(frame[i] * 100.0f);
    eb_thermal th = {EB_SENSOR_MLX90640, EB_PIX_INT16, 32, 24, 0.01f, 0.0f, nullptr};
    TX_LOCK();
    eb_device_thermal(&dev, t_us, &th, centi, tb, sizeof tb, tw, sizeof tw);
    TX_UNLOCK();
}

#if defined(ARDUINO_ARCH_ESP32)
static void thermal_task(void *) {
    for (;;) {
        if (have_mlx && dev.streaming) thermal_once();
        else vTaskDelay(pdMS_TO_TICKS(10));
    }
}
#elif defined(ARDUINO_ARCH_RP2040)
void loop1() {  // arduino-pico runs loop1() on the second core
    if (have_mlx && dev.streaming) thermal_once();
    else delay(10);
}
#endif

// ---------------------------------------------------------------- commands
static void apply_rate(const eb_command &cmd, uint32_t now) {
    float imu_hz = dev.info.imu_rate_hz, thermal_hz = dev.info.thermal_rate_hz, got;
    if (cmd.stream == EB_STREAM_IMU) got = imu_begin(cmd.rate_hz);
    else got = have_mlx ? thermal_begin(cmd.rate_hz) : 0.0f;
    if (got <= 0.0f) {
        eb_device_log(&dev, now, EB_LOG_WARNING, "set_rate refused (rate not positive, or the sensor did not answer); rate unchanged");
        return;
    }
    if (cmd.stream == EB_STREAM_IMU) imu_hz = got;
    else thermal_hz = got;
    eb_device_set_rates(&dev, now, imu_hz, thermal_hz);  // LOG + INFO with the real rates
}

static void poll_commands() {
    while (Serial.available() > 0) {
        eb_command cmd;
        uint32_t now = micros();
        TX_LOCK();
        uint8_t type = eb_device_rx(&dev, (uint8_t)Serial.read(), now, &cmd);  // may answer with INFO
        if (type == EB_CMD_SET_RATE) apply_rate(cmd, now);
        TX_UNLOCK();
    }
}

// ---------------------------------------------------------------- main loop
void setup() {
    Serial.begin(921600);
#if defined(ARDUINO_ARCH_ESP32)
    tx_mutex = xSemaphoreCreateMutex();
    Wire.begin(EB_IMU_SDA, EB_IMU_SCL, IMU_I2C_HZ);
    Wire1.begin(EB_MLX_SDA, EB_MLX_SCL, EB_I2C_HZ_MLX90640);
#else
    mutex_init(&tx_mutex);
    Wire.setSDA(EB_IMU_SDA); Wire.setSCL(EB_IMU_SCL); Wire.setClock(IMU_I2C_HZ); Wire.begin();
    Wire1.setSDA(EB_MLX_SDA); Wire1.setSCL(EB_MLX_SCL); Wire1.setClock(EB_I2C_HZ_MLX90640); Wire1.begin();
#endif
    float imu_hz = imu_begin(EB_IMU_RATE_HZ);
    float thermal_hz = 0;
    have_mlx = mlx.begin(MLX90640_I2CADDR_DEFAULT, &Wire1);
    if (have_mlx) {
        mlx.setMode(MLX90640_CHESS);
        mlx.setResolution(MLX90640_ADC_18BIT);
        thermal_hz = thermal_begin(EB_THERMAL_RATE_HZ);
    }
    eb_info info = {ACCEL_LSB, GYRO_LSB, imu_hz, thermal_hz, 16, 2000,
                    (uint8_t)(EB_INFO_HAS_GYRO | (have_mlx ? EB_INFO_HAS_THERMAL : 0)), EB_FIRMWARE, IMU_NAME,
                    have_mlx ? "MLX90640" : ""};
    eb_device_init(&dev, &info, EB_DEV_MAX_BATCH, write_serial, nullptr);
    if (imu_hz <= 0) eb_device_log(&dev, micros(), EB_LOG_ERROR, "imu: WHO_AM_I mismatch; check wiring and AD0");
#if defined(ARDUINO_ARCH_ESP32)
    xTaskCreatePinnedToCore(thermal_task, "mlx90640", 8192, nullptr, 1, nullptr, 0);
#endif
}

void loop() {
    int16_t s[6];
    poll_commands();
    if (!dev.streaming || !imu_data_ready()) return;
    uint32_t t_us = micros();  // data-ready seen: the sample is at most one poll old
    if (!imu_sample(s)) return;
    TX_LOCK();
    eb_device_imu(&dev, t_us, s);
    TX_UNLOCK();
}
