/*
 * ventriloquist servo link: byte-at-a-time frame parser, CRC-16/CCITT-FALSE and the
 * 250 ms failsafe watchdog. The same file runs on the board and, compiled for the host,
 * inside the device simulator and the fuzz test. See protocol.h for the frame layout.
 */
#include "protocol.h"

enum { ST_START = 0, ST_LEN, ST_PAYLOAD, ST_CRC_HI, ST_CRC_LO };

uint16_t vq_crc16_update(uint16_t crc, uint8_t byte)
{
    uint8_t bit;
    crc ^= (uint16_t)((uint16_t)byte << 8);
    for (bit = 0; bit < 8u; bit++) {
        crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
    }
    return crc;
}

uint16_t vq_crc16(const uint8_t *data, size_t n)
{
    uint16_t crc = VQ_CRC_INIT;
    size_t i;
    for (i = 0; i < n; i++) {
        crc = vq_crc16_update(crc, data[i]);
    }
    return crc;
}

void vq_device_init(vq_device_t *dev, uint8_t channels, uint16_t neutral_qus, uint32_t now_ms)
{
    uint8_t i;
    dev->parser.state = ST_START;
    dev->parser.len = 0;
    dev->parser.pos = 0;
    dev->parser.crc_hi = 0;
    dev->parser.crc = VQ_CRC_INIT;
    dev->channels = channels > VQ_MAX_CHANNELS ? (uint8_t)VQ_MAX_CHANNELS : channels;
    for (i = 0; i < VQ_MAX_CHANNELS; i++) {
        dev->target_qus[i] = neutral_qus;
        dev->neutral_qus[i] = neutral_qus;
    }
    dev->last_seq = 0;
    dev->flags = 0;
    dev->last_valid_ms = now_ms;
    dev->good_frames = 0;
    dev->bad_frames = 0;
}

static uint16_t read_u16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | ((uint16_t)p[1] << 8));
}

/* Check a TARGETS / NEUTRAL body; returns the channel count it carries, 0 when invalid. */
static uint8_t check_targets(const vq_device_t *dev, const uint8_t *data, uint8_t n, uint8_t allow_off)
{
    uint8_t first, count, i;
    uint16_t v;
    if (n < 3u || ((n - 1u) & 1u) != 0u) {
        return 0;
    }
    first = data[0];
    count = (uint8_t)((n - 1u) / 2u);
    if ((uint16_t)first + count > dev->channels) {
        return 0;
    }
    for (i = 0; i < count; i++) {
        v = read_u16le(&data[1u + 2u * i]);
        if (v == 0u ? !allow_off : (v < VQ_PULSE_MIN_QUS || v > VQ_PULSE_MAX_QUS)) {
            return 0;
        }
    }
    return count;
}

/* Act on a frame whose CRC matched. */
static uint8_t dispatch(vq_device_t *dev, uint32_t now_ms)
{
    const uint8_t type = dev->parser.buf[0];
    const uint8_t *data = &dev->parser.buf[2];
    const uint8_t n = (uint8_t)(dev->parser.len - 2u);
    uint16_t *dest;
    uint8_t count, i, event;

    if (type == VQ_TYPE_PING && n == 0u) {
        event = VQ_EVENT_PING;
    } else if (type == VQ_TYPE_TARGETS || type == VQ_TYPE_NEUTRAL) {
        count = check_targets(dev, data, n, type == VQ_TYPE_TARGETS);
        if (count == 0u) {
            return VQ_EVENT_BAD;
        }
        dest = type == VQ_TYPE_TARGETS ? dev->target_qus : dev->neutral_qus;
        for (i = 0; i < count; i++) {
            dest[data[0] + i] = read_u16le(&data[1u + 2u * i]);
        }
        if (type == VQ_TYPE_TARGETS) {
            dev->flags &= (uint8_t)~VQ_FLAG_FAILSAFE;
            event = VQ_EVENT_TARGETS;
        } else {
            dev->flags |= VQ_FLAG_NEUTRAL_SET;
            event = VQ_EVENT_NEUTRAL;
        }
    } else {
        return VQ_EVENT_BAD;
    }
    dev->last_seq = dev->parser.buf[1];
    dev->last_valid_ms = now_ms;
    dev->good_frames++;
    return event;
}

static uint8_t reject(vq_device_t *dev)
{
    dev->parser.state = ST_START;
    dev->bad_frames++;
    return VQ_EVENT_BAD;
}

/* One byte through the state machine; VQ_RESCAN when a CRC failed. */
static uint8_t step(vq_device_t *dev, uint8_t byte, uint32_t now_ms)
{
    vq_parser_t *p = &dev->parser;
    uint8_t event;
    switch (p->state) {
    case ST_START:
        if (byte == VQ_START_BYTE) {
            p->state = ST_LEN;
        }
        return VQ_EVENT_NONE;
    case ST_LEN:
        if (byte == VQ_START_BYTE) {
            return VQ_EVENT_NONE; /* a repeated start byte: resynchronise on it */
        }
        if (byte < 2u || byte > VQ_MAX_PAYLOAD) {
            return reject(dev);
        }
        p->len = byte;
        p->pos = 0;
        p->crc = vq_crc16_update(VQ_CRC_INIT, byte);
        p->state = ST_PAYLOAD;
        return VQ_EVENT_NONE;
    case ST_PAYLOAD:
        p->buf[p->pos++] = byte;
        p->crc = vq_crc16_update(p->crc, byte);
        if (p->pos >= p->len) {
            p->state = ST_CRC_HI;
        }
        return VQ_EVENT_NONE;
    case ST_CRC_HI:
        p->crc_hi = byte;
        p->state = ST_CRC_LO;
        return VQ_EVENT_NONE;
    case ST_CRC_LO:
        p->state = ST_START;
        if (p->crc != (uint16_t)(((uint16_t)p->crc_hi << 8) | byte)) {
            dev->bad_frames++;
            return VQ_RESCAN;
        }
        event = dispatch(dev, now_ms);
        if (event == VQ_EVENT_BAD) {
            dev->bad_frames++;
        }
        return event;
    default:
        return reject(dev);
    }
}

/* Which of two events the caller must hear about: a reply is owed > new targets > a rejection. */
static uint8_t stronger(uint8_t a, uint8_t b)
{
    static const uint8_t rank[] = {0u, 2u, 3u, 3u, 1u}; /* NONE, TARGETS, NEUTRAL, PING, BAD */
    return rank[b] >= rank[a] ? b : a;
}

uint8_t vq_device_feed(vq_device_t *dev, uint8_t byte, uint32_t now_ms)
{
    /* Bytes still to parse. A CRC failure puts the failed frame's bytes (all but its start
     * byte) back in front, so a false start in noise cannot swallow the real frame after it.
     * Held-by-parser + pending bytes never exceed VQ_MAX_FRAME - 1, so this cannot overflow. */
    uint8_t pending[VQ_MAX_FRAME];
    uint8_t head = VQ_MAX_FRAME - 1u, event = VQ_EVENT_NONE, r, i;
    const vq_parser_t *p = &dev->parser;
    pending[head] = byte;
    while (head < VQ_MAX_FRAME) {
        r = step(dev, pending[head], now_ms);
        head++;
        if (r != VQ_RESCAN) {
            event = stronger(event, r);
            continue;
        }
        event = stronger(event, VQ_EVENT_BAD);
        /* pending[head - 1] is the CRC low byte just read; put crc_hi, payload and len before it */
        head = (uint8_t)(head - 2u);
        pending[head] = p->crc_hi;
        for (i = p->len; i > 0u; i--) {
            pending[--head] = p->buf[i - 1u];
        }
        pending[--head] = p->len;
    }
    return event;
}

uint8_t vq_device_tick(vq_device_t *dev, uint32_t now_ms)
{
    uint8_t i;
    if ((dev->flags & VQ_FLAG_FAILSAFE) != 0u || (uint32_t)(now_ms - dev->last_valid_ms) < VQ_WATCHDOG_MS) {
        return 0;
    }
    for (i = 0; i < VQ_MAX_CHANNELS; i++) {
        dev->target_qus[i] = dev->neutral_qus[i];
    }
    dev->flags |= VQ_FLAG_FAILSAFE;
    return 1;
}

size_t vq_encode(uint8_t type, uint8_t seq, const uint8_t *data, uint8_t n, uint8_t *out)
{
    uint16_t crc;
    uint8_t i;
    if ((size_t)n + 2u > VQ_MAX_PAYLOAD) {
        return 0;
    }
    out[0] = VQ_START_BYTE;
    out[1] = (uint8_t)(n + 2u);
    out[2] = type;
    out[3] = seq;
    for (i = 0; i < n; i++) {
        out[4u + i] = data[i];
    }
    crc = vq_crc16(&out[1], (size_t)n + 3u);
    out[4u + n] = (uint8_t)(crc >> 8);
    out[5u + n] = (uint8_t)(crc & 0xFFu);
    return (size_t)n + 6u;
}

size_t vq_build_status(const vq_device_t *dev, uint8_t *out)
{
    uint8_t data[VQ_STATUS_DATA_LEN];
    data[0] = dev->last_seq;
    data[1] = dev->flags;
    data[2] = dev->channels;
    data[3] = (uint8_t)(dev->good_frames & 0xFFu);
    data[4] = (uint8_t)(dev->good_frames >> 8);
    data[5] = (uint8_t)(dev->bad_frames & 0xFFu);
    data[6] = (uint8_t)(dev->bad_frames >> 8);
    return vq_encode(VQ_TYPE_STATUS, dev->last_seq, data, VQ_STATUS_DATA_LEN, out);
}

uint16_t vq_device_target(const vq_device_t *dev, uint8_t channel)
{
    return channel < VQ_MAX_CHANNELS ? dev->target_qus[channel] : 0u;
}

uint16_t vq_device_neutral(const vq_device_t *dev, uint8_t channel)
{
    return channel < VQ_MAX_CHANNELS ? dev->neutral_qus[channel] : 0u;
}

size_t vq_device_size(void)
{
    return sizeof(vq_device_t);
}
