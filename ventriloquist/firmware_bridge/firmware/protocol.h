/*
 * ventriloquist servo link: the frame parser, CRC and failsafe watchdog shared by the
 * board firmware and the host simulator / fuzz test. Plain C99, no malloc, no clock:
 * the caller passes the time in milliseconds.
 *
 * Frame (both directions):
 *   0xA5 | len | type | seq | data[len-2] | crc_hi | crc_lo
 *   len  = number of bytes from type to the end of data (2..VQ_MAX_PAYLOAD)
 *   crc  = CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no xorout)
 *          over len, type, seq and data; sent big-endian. check("123456789") = 0x29B1.
 *
 * Host -> device types:
 *   VQ_TYPE_TARGETS  data = first_channel, then uint16 little-endian targets in quarter
 *                    microseconds (0 = pulse off); every target 0 or within
 *                    [VQ_PULSE_MIN_QUS, VQ_PULSE_MAX_QUS], else the whole frame is rejected.
 *   VQ_TYPE_NEUTRAL  same layout: the failsafe positions (non-zero, within range).
 *   VQ_TYPE_PING     no data; the device answers with a status frame.
 * Device -> host:
 *   VQ_TYPE_STATUS   data = last_seq, flags, channels, good_frames (u16 LE), bad_frames (u16 LE)
 */
#ifndef VQ_PROTOCOL_H
#define VQ_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define VQ_START_BYTE 0xA5u
#define VQ_MAX_CHANNELS 16u
#define VQ_MAX_PAYLOAD (3u + 2u * VQ_MAX_CHANNELS) /* type, seq, first_channel, targets */
#define VQ_MAX_FRAME (VQ_MAX_PAYLOAD + 4u)         /* start, len, crc x2 */
#define VQ_PULSE_MIN_QUS 1600u                     /* 400 us */
#define VQ_PULSE_MAX_QUS 11200u                    /* 2800 us */
#define VQ_WATCHDOG_MS 250u
#define VQ_CRC_INIT 0xFFFFu

#define VQ_TYPE_TARGETS 0x01u
#define VQ_TYPE_NEUTRAL 0x02u
#define VQ_TYPE_PING 0x03u
#define VQ_TYPE_STATUS 0x81u

#define VQ_FLAG_FAILSAFE 0x01u     /* servos were sent to neutral by the watchdog */
#define VQ_FLAG_NEUTRAL_SET 0x02u  /* the host has set the neutral positions */
#define VQ_STATUS_DATA_LEN 7u

/* What one byte completed. */
enum vq_event {
    VQ_EVENT_NONE = 0,   /* frame still incomplete */
    VQ_EVENT_TARGETS,    /* new targets applied */
    VQ_EVENT_NEUTRAL,    /* new neutral positions stored */
    VQ_EVENT_PING,       /* caller should send vq_build_status() */
    VQ_EVENT_BAD,        /* a frame was rejected (CRC, length, type or range) */
    VQ_RESCAN = 0xFF     /* internal: a CRC failed and the frame's bytes are parsed again */
};

typedef struct {
    uint8_t state;
    uint8_t len;
    uint8_t pos;
    uint8_t crc_hi;
    uint16_t crc; /* running CRC over len and payload */
    uint8_t buf[VQ_MAX_PAYLOAD];
} vq_parser_t;

typedef struct {
    vq_parser_t parser;
    uint16_t target_qus[VQ_MAX_CHANNELS];
    uint16_t neutral_qus[VQ_MAX_CHANNELS];
    uint8_t channels;
    uint8_t last_seq;
    uint8_t flags;
    uint32_t last_valid_ms;
    uint16_t good_frames;
    uint16_t bad_frames;
} vq_device_t;

uint16_t vq_crc16_update(uint16_t crc, uint8_t byte);
uint16_t vq_crc16(const uint8_t *data, size_t n);

/* Start with every channel at `neutral_qus`; `channels` is clamped to VQ_MAX_CHANNELS. */
void vq_device_init(vq_device_t *dev, uint8_t channels, uint16_t neutral_qus, uint32_t now_ms);

/* Feed one received byte; returns the vq_event it completed (when re-parsing after a CRC
 * failure completes several, the one needing action: PING/NEUTRAL, then TARGETS, then BAD). */
uint8_t vq_device_feed(vq_device_t *dev, uint8_t byte, uint32_t now_ms);

/* The failsafe: call often. Returns 1 when it has just moved every servo to neutral because
 * no valid frame arrived for VQ_WATCHDOG_MS; 0 otherwise. */
uint8_t vq_device_tick(vq_device_t *dev, uint32_t now_ms);

/* Encode a frame into `out` (at least VQ_MAX_FRAME bytes); returns its length, 0 if too long. */
size_t vq_encode(uint8_t type, uint8_t seq, const uint8_t *data, uint8_t n, uint8_t *out);

/* The status reply for the last frame; returns its length. */
size_t vq_build_status(const vq_device_t *dev, uint8_t *out);

/* Read-only views, for the host simulator (ctypes) and the sketch. */
uint16_t vq_device_target(const vq_device_t *dev, uint8_t channel);
uint16_t vq_device_neutral(const vq_device_t *dev, uint8_t channel);
size_t vq_device_size(void);

#endif
