// edgebind reference firmware: reads an ICM-42688-P (or MPU-6050) IMU and an MLX90640 over I2C and streams them
// in the edgebind protocol v2 (../../PROTOCOL.md) through the portable C library in ../../src.
//
// Session rule (PROTOCOL.md "Session"): nothing is sent until the host sends START; the device then sends INFO
// and streams; STOP pauses; GET_INFO resends INFO; SET_RATE changes the IMU output data rate or the MLX90640
// refresh rate and is acknowledged with a LOG frame.
//
// The session (START/STOP/GET_INFO, IMU batching, sequence numbers) is eb_device.c, the rate arithmetic eb_rates.c
// and the IMU bookkeeping (WHO_AM_I, loss accounting) eb_imu.c: portable C shared with the synthetic-sensor
// firmware that CI builds and runs in QEMU (../../emu/), and tested on the host (../../tests/test_device.c). This
// file only talks to the chips.
//
// Rates: INFO always carries what the hardware really runs at (the MPU-6050 divider rounds, the ICM-42688 has
// a fixed ODR table, the MLX90640 refresh register counts sub-pages, two per frame).
//
// No silent loss: the IMU samples into its hardware FIFO (ICM-42688-P: 2 KB, 128 packets of accel + gyro + temp +
// 16-bit timestamp, stop-on-full; MPU-6050: 1 KB, 85 samples), which the loop drains in bursts, so the ~17 ms
// an MLX90640 frame holds the UART at 921600 baud (thermal_once) costs no sample. The IMU's data-ready line (INT1,
// pin EB_IMU_INT) pulses once per sample and an interrupt counts the pulses, so a sample that never reached the
// FIFO (overflow) is still counted: its sequence number is skipped (eb_device_imu_lost) and the host reports it.
// Each sample is stamped with the time of its data-ready pulse (counted back from the newest pulse), so a frame
// after a loss carries its own time.
//
// Two I2C buses so the slow MLX90640 read (tens of ms per sub-page at 1 MHz) never delays the IMU:
// IMU on Wire, MLX90640 on Wire1. On the ESP32-S3 the thermal camera runs in its own FreeRTOS task; frames are
// written under a mutex so frames never interleave on the wire. Register addresses are from the InvenSense
// ICM-42688-P (DS-000347) and MPU-6000/6050 register map (RM-MPU-6000A) datasheets; check them on your part.
#include <Arduino.h>
#include <Wire.h>
#include <Adafruit_MLX90640.h>

extern "C" {
#include "edgebind_proto.h"
#include "eb_device.h"
#include "eb_imu.h"
#include "eb_rates.h"
}

#ifndef EB_IMU_RATE_HZ
#define EB_IMU_RATE_HZ 1000
#endif
#ifndef EB_THERMAL_RATE_HZ
#define EB_THERMAL_RATE_HZ 8
#endif
#define EB_FIRMWARE "edgebind-ref-0.3.0"
#ifndef EB_IMU_INT
#error "EB_IMU_INT: the GPIO wired to the IMU's INT1 (data-ready) pin (platformio.ini sets it per board)"
#endif

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

// data-ready pulses, counted by an interrupt whatever the loop is doing, and the time of the newest
static volatile uint16_t drdy_pulses;
static volatile uint32_t drdy_t_us;
#if defined(ARDUINO_ARCH_ESP32)
static void IRAM_ATTR on_drdy() {
#else
static void on_drdy() {
#endif
    drdy_t_us = micros();
    drdy_pulses++;
}

static void pulses_now(uint16_t *count, uint32_t *t_us) {  // both from the same pulse
    noInterrupts();
    *count = drdy_pulses;
    *t_us = drdy_t_us;
    interrupts();
}

static const char *imu_warning;  // WHO_AM_I of a clone: logged after INFO at each START
static eb_imu_track track;
static float imu_period_us = 1000.0f;

#ifdef EB_IMU_MPU6050
static const size_t PACKET = 12;  // FIFO_EN = accel + gyro: ACCEL_XOUT_H..ACCEL_ZOUT_L, GYRO_XOUT_H..GYRO_ZOUT_L
static const int POLICY = EB_FIFO_RESET;

static void fifo_reset() {
    imu_write(0x6A, 0x04);  // USER_CTRL: FIFO_RESET
    imu_write(0x6A, 0x40);  // USER_CTRL: FIFO_EN
}

// Returns the rate the chip really runs at (INFO), or 0 when the chip did not answer.
static float imu_begin(float rate_hz) {
    uint8_t who = 0, div = 0;
    float achieved = 0;
    if (!imu_read(0x75, &who, 1) || eb_mpu6050_whoami(who, &imu_warning) == EB_IMU_UNKNOWN) return 0;
    if (eb_mpu6050_rate(rate_hz, 1000.0f, &div, &achieved) != EB_RATE_OK) return 0;
    imu_write(0x6B, 0x01);  // PWR_MGMT_1: wake, PLL on gyro X
    imu_write(0x1A, 0x01);  // CONFIG: DLPF 184 Hz -> 1 kHz gyro output rate
    imu_write(0x19, div);   // SMPLRT_DIV, range-checked: 1 kHz / (1 + div)
    imu_write(0x1B, 0x18);  // GYRO_CONFIG: +-2000 dps
    imu_write(0x1C, 0x18);  // ACCEL_CONFIG: +-16 g
    imu_write(0x37, 0x00);  // INT_PIN_CFG: INT active high, push-pull, 50 us pulse
    imu_write(0x38, 0x11);  // INT_ENABLE: FIFO_OFLOW_EN | DATA_RDY_EN
    imu_write(0x23, 0x78);  // FIFO_EN: XG, YG, ZG, ACCEL
    fifo_reset();
    return achieved;
}

// Samples in the FIFO now; an overflowed FIFO (it overwrites its oldest bytes, so packets lose their alignment)
// is reset and reads as empty: eb_imu_plan_fifo then counts everything since the last read as lost.
static uint32_t fifo_count() {
    uint8_t st = 0, c[2] = {0, 0};
    if (imu_read(0x3A, &st, 1) && (st & 0x10)) {  // INT_STATUS.FIFO_OFLOW_INT
        fifo_reset();
        return 0;
    }
    if (!imu_read(0x72, c, 2)) return 0;  // FIFO_COUNTH, FIFO_COUNTL: bytes
    return ((uint32_t)c[0] << 8 | c[1]) / PACKET;
}

static bool fifo_packet(const uint8_t *p, int16_t *out6, uint16_t *ts) {
    for (int i = 0; i < 6; i++) out6[i] = (int16_t)((p[2 * i] << 8) | p[2 * i + 1]);
    *ts = 0;  // no timestamps in this FIFO: losses are placed by POLICY
    return true;
}
#define FIFO_DATA_REG 0x74
#else
static const size_t PACKET = 16;  // packet 3: header, accel xyz, gyro xyz, temperature (8 bit), timestamp (16 bit)
static const int POLICY = EB_FIFO_STOP_ON_FULL;

static float imu_begin(float rate_hz) {
    uint8_t who = 0, odr = 0;
    float achieved = 0;
    if (!imu_read(0x75, &who, 1) || eb_icm42688_whoami(who, &imu_warning) == EB_IMU_UNKNOWN) return 0;
    if (eb_icm42688_rate(rate_hz, &odr, &achieved) != EB_RATE_OK) return 0;
    imu_write(0x4E, 0x00);                        // PWR_MGMT0: sensors off while configuring
    imu_write(0x50, (uint8_t)(0x00 << 5) | odr);  // ACCEL_CONFIG0: +-16 g, ODR
    imu_write(0x4F, (uint8_t)(0x00 << 5) | odr);  // GYRO_CONFIG0: +-2000 dps, ODR
    imu_write(0x14, 0x03);                        // INT_CONFIG: INT1 pulsed, push-pull, active high
    imu_write(0x64, 0x00);                        // INT_CONFIG1: INT_ASYNC_RESET = 0 (required), 100 us pulses
    imu_write(0x65, 0x08);                        // INT_SOURCE0: UI_DRDY_INT1_EN
    imu_write(0x4C, 0x70);                        // INTF_CONFIG0: FIFO count in records, big-endian
    imu_write(0x54, 0x01);                        // TMST_CONFIG: timestamp on, absolute, 1 us
    imu_write(0x5F, 0x0F);                        // FIFO_CONFIG1: accel, gyro, temperature, timestamp (packet 3)
    imu_write(0x16, 0x80);                        // FIFO_CONFIG: stop-on-full
    imu_write(0x4E, 0x0F);                        // PWR_MGMT0: accel and gyro in low-noise mode
    delay(1);
    return achieved;
}

static uint32_t fifo_count() {
    uint8_t c[2] = {0, 0};
    if (!imu_read(0x2E, c, 2)) return 0;  // FIFO_COUNTH, FIFO_COUNTL: records
    return (uint32_t)c[0] << 8 | c[1];
}

static bool fifo_packet(const uint8_t *p, int16_t *out6, uint16_t *ts) {
    if (p[0] & 0x80) return false;  // header: FIFO empty
    for (int i = 0; i < 6; i++) out6[i] = (int16_t)((p[1 + 2 * i] << 8) | p[2 + 2 * i]);
    *ts = (uint16_t)((p[14] << 8) | p[15]);
    return true;
}
#define FIFO_DATA_REG 0x30
#endif

// Drain the FIFO in bursts of whole packets (the Wire buffer holds 128 bytes), send every sample with its
// time, and count the samples that never reached the FIFO.
static void imu_drain() {
    uint16_t pulses;
    uint32_t newest_t_us;
    pulses_now(&pulses, &newest_t_us);  // first the count, then the FIFO level
#ifdef EB_IMU_MPU6050
    eb_imu_plan plan = eb_imu_plan_fifo(&track, pulses, fifo_count(), POLICY);  // lost ones come first
    uint32_t left = plan.read, index = plan.first;
    TX_LOCK();
    eb_device_imu_lost(&dev, plan.lost_before);
    TX_UNLOCK();
#else
    uint32_t left = fifo_count(), index = 0;
    eb_imu_taken(&track, pulses);
#endif
    uint32_t newest = track.taken - 1;  // the sample of the newest pulse, whose time the interrupt kept
    while (left) {
        uint8_t raw[128];
        size_t n = left < sizeof raw / PACKET ? left : sizeof raw / PACKET;
        if (!imu_read(FIFO_DATA_REG, raw, n * PACKET)) break;
        TX_LOCK();
        for (size_t k = 0; k < n; k++) {
            int16_t s[6];
            uint16_t ts;
            if (!fifo_packet(raw + k * PACKET, s, &ts)) continue;
#ifndef EB_IMU_MPU6050
            eb_device_imu_lost(&dev, eb_imu_fifo_packet(&track, ts, &index));  // placed by the packet's timestamp
#endif
            // sample `index` pulsed (newest - index) periods before the newest pulse (negative: after it)
            float back_us = ((float)(int32_t)(newest - index)) * imu_period_us;
            eb_device_imu(&dev, newest_t_us - (uint32_t)(int32_t)lroundf(back_us), s);
            index++;
        }
        TX_UNLOCK();
        left -= (uint32_t)n;
    }
    TX_LOCK();
#ifdef EB_IMU_MPU6050
    eb_device_imu_lost(&dev, left);  // a failed I2C read: those samples are gone from the FIFO
    track.lost += left;
#else
    eb_device_imu_lost(&dev, eb_imu_fifo_tail(&track));  // taken but never queued: the FIFO was full
#endif
    TX_UNLOCK();
}

// START or a new rate: the FIFO starts empty, sample numbering goes on from the pulses counted now
static void imu_restart(bool from_start) {
    uint16_t pulses;
    uint32_t t_us;
    fifo_count();  // MPU-6050: clears a pending overflow flag
#ifdef EB_IMU_MPU6050
    fifo_reset();
#else
    imu_write(0x4B, 0x02);  // SIGNAL_PATH_RESET: FIFO_FLUSH
#endif
    pulses_now(&pulses, &t_us);
    if (from_start) eb_imu_track_init(&track);
    eb_imu_track_run(&track, t_us, (uint32_t)(imu_period_us + 0.5f), pulses);
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
    if (cmd.stream == EB_STREAM_IMU) {
        TX_UNLOCK();
        imu_drain();  // what the FIFO holds was taken at the old rate
        TX_LOCK();
        got = imu_begin(cmd.rate_hz);
        if (got > 0.0f) imu_period_us = 1e6f / got;
        imu_restart(false);
    }
    else got = have_mlx ? thermal_begin(cmd.rate_hz) : 0.0f;
    if (got <= 0.0f) {
        eb_device_log(&dev, now, EB_LOG_WARNING, "set_rate refused (rate not positive, or the sensor did not answer); rate unchanged");
        return;
    }
    if (cmd.stream == EB_STREAM_IMU) {
        imu_hz = got;
        imu_period_us = 1e6f / got;
    } else {
        thermal_hz = got;
    }
    eb_device_set_rates(&dev, now, imu_hz, thermal_hz);  // LOG + INFO with the real rates
}

static void poll_commands() {
    while (Serial.available() > 0) {
        eb_command cmd;
        uint32_t now = micros();
        TX_LOCK();
        uint8_t type = eb_device_rx(&dev, (uint8_t)Serial.read(), now, &cmd);  // may answer with INFO
        if (type == EB_CMD_SET_RATE) apply_rate(cmd, now);
        if (type == EB_CMD_START) {
            if (imu_warning) eb_device_log(&dev, now, EB_LOG_WARNING, imu_warning);
            imu_restart(true);
        }
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
    pinMode(EB_IMU_INT, INPUT);
    attachInterrupt(digitalPinToInterrupt(EB_IMU_INT), on_drdy, RISING);
    float imu_hz = imu_begin(EB_IMU_RATE_HZ);
    if (imu_hz > 0) imu_period_us = 1e6f / imu_hz;
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
    // the host is not listening yet: a WHO_AM_I warning is logged after INFO at each START (poll_commands)
    if (imu_hz <= 0 && !imu_warning) imu_warning = "imu: no answer on I2C; check wiring and AD0";
#if defined(ARDUINO_ARCH_ESP32)
    xTaskCreatePinnedToCore(thermal_task, "mlx90640", 8192, nullptr, 1, nullptr, 0);
#endif
}

void loop() {
    poll_commands();
    if (dev.streaming) imu_drain();  // a burst of whatever the FIFO collected, however long thermal_once took
}
