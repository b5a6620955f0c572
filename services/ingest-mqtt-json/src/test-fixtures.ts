// Messages as real sources publish them, shared by this package's tests.

/** An uplink as ChirpStack v4's MQTT integration publishes it (JSON marshaler). */
export const UPLINK = {
  deduplicationId: '3ac7e3c4-4401-4b8d-9386-a5c902f9202d',
  time: '2026-11-23T10:11:12.123456789Z',
  deviceInfo: {
    tenantId: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242',
    applicationId: '17c82e96-be03-4f38-aef3-f83d48582d97',
    deviceProfileName: 'leak-and-climate',
    deviceName: 'hall1-row3-leak',
    devEui: '0101010101010101',
    tags: {},
  },
  devAddr: '00189440',
  dr: 5,
  fCnt: 4,
  fPort: 1,
  data: 'qqo=',
  object: { temperature: 22.5, humidity: 41, leak: false, firmware: '1.2.0' },
  rxInfo: [{ gatewayId: '0016c001f153a14c', uplinkId: 4217106255, rssi: -36, snr: 10.5 }],
  txInfo: { frequency: 868100000 },
};
export const UPLINK_TOPIC =
  'application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/up';
