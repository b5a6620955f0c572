import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricOf, propertyPathOf, readMetricValue, unitFromName } from './metric.js';

describe('Redfish metric identity', () => {
  it('names a metric by its MetricProperty path, JSON pointer included', () => {
    assert.equal(
      propertyPathOf('/redfish/v1/Chassis/1/Power#/PowerControl/0/PowerConsumedWatts'),
      'Chassis/1/Power/PowerControl/0/PowerConsumedWatts',
    );
    assert.equal(
      propertyPathOf('https://bmc.example/redfish/v1/Chassis/GPU_0/Sensors/temp#/Reading'),
      'Chassis/GPU_0/Sensors/temp/Reading',
    );
    assert.equal(propertyPathOf('   '), undefined);
    assert.equal(propertyPathOf('/redfish/v1/a b'), undefined);
  });

  it('derives the metric from MetricProperty when MetricId is missing, and keeps it when MetricId repeats the property', () => {
    const property = '/redfish/v1/Chassis/n1/Thermal#/Temperatures/3/ReadingCelsius';
    assert.equal(metricOf({ MetricProperty: property }), 'Chassis/n1/Thermal/Temperatures/3/ReadingCelsius');
    assert.equal(
      metricOf({ MetricId: 'ReadingCelsius', MetricProperty: property }),
      'Chassis/n1/Thermal/Temperatures/3/ReadingCelsius',
    );
  });

  it('appends a MetricId that names a calculated metric of the property, and uses a MetricId alone without a property', () => {
    assert.equal(
      metricOf({
        MetricId: 'AverageConsumedWatts',
        MetricProperty: '/redfish/v1/Chassis/Tray_1/Power#/0/PowerConsumedWatts',
      }),
      'Chassis/Tray_1/Power/0/PowerConsumedWatts/AverageConsumedWatts',
    );
    assert.equal(metricOf({ MetricId: 'SystemInputPower' }), 'SystemInputPower');
    assert.equal(metricOf({ MetricId: '', MetricProperty: 42 }), undefined);
  });

  it('infers units from Redfish property names', () => {
    assert.deepEqual(
      [
        'PowerConsumedWatts',
        'x/ReadingCelsius',
        'ReadingVolts',
        'CurrentAmps',
        'SpeedRPM',
        'DutyPercent',
        'Reading',
      ].map(unitFromName),
      ['W', 'Cel', 'V', 'A', 'RPM', '%', ''],
    );
  });
});

describe('readMetricValue', () => {
  it('reads the schema string as a number, a boolean or text', () => {
    assert.deepEqual(readMetricValue('412.5'), { ok: true, value: { doubleValue: 412.5 } });
    assert.deepEqual(readMetricValue(' -1e3 '), { ok: true, value: { doubleValue: -1000 } });
    assert.deepEqual(readMetricValue('True'), { ok: true, value: { boolValue: true } });
    assert.deepEqual(readMetricValue('Enabled'), { ok: true, value: { stringValue: 'Enabled' } });
    assert.deepEqual(readMetricValue('0x10'), { ok: true, value: { stringValue: '0x10' } });
  });

  it('accepts the JSON numbers and booleans some BMCs send, null as no reading, and refuses objects', () => {
    assert.deepEqual(readMetricValue(17), { ok: true, value: { doubleValue: 17 } });
    assert.deepEqual(readMetricValue(false), { ok: true, value: { boolValue: false } });
    assert.deepEqual(readMetricValue(null), { ok: true, value: null });
    assert.equal(readMetricValue({ v: 1 }).ok, false);
    assert.equal(readMetricValue([1]).ok, false);
    assert.equal(readMetricValue('1e999').ok, false);
  });
});
