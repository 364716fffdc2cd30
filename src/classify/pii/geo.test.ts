import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COUNTRY_REGIONS, countryOf, inRegion } from './geo.js';

// City coordinates rounded from public gazetteers (city-centre values as Wikipedia gives them).
const US_PLACES: [string, number, number][] = [
  ['New York', 40.7128, -74.006], ['Los Angeles', 34.0522, -118.2437], ['Chicago', 41.8781, -87.6298],
  ['Miami', 25.7617, -80.1918], ['Key West', 24.5551, -81.78], ['Seattle', 47.6062, -122.3321],
  ['Boston', 42.3601, -71.0589], ['Buffalo', 42.8864, -78.8784], ['Cleveland', 41.4993, -81.6944],
  ['Duluth', 46.7867, -92.1005], ['El Paso', 31.7619, -106.485], ['San Diego', 32.7157, -117.1611],
  ['Brownsville', 25.9017, -97.4975], ['Laredo', 27.5306, -99.4803], ['Bangor', 44.8016, -68.7712],
  ['Presque Isle', 46.6812, -68.0159], ['Burlington VT', 44.4759, -73.2121], ['Bellingham', 48.7519, -122.4787],
  ['Anchorage', 61.2181, -149.9003], ['Fairbanks', 64.8378, -147.7164], ['Juneau', 58.3019, -134.4197],
  ['Nome', 64.5011, -165.4064], ['Utqiagvik', 71.2906, -156.7886], ['Adak', 51.88, -176.658],
  ['Attu', 52.85, 173.18], ['Honolulu', 21.3069, -157.8583], ['Hilo', 19.7074, -155.0885],
  ['Nogales AZ', 31.3404, -110.9343],
];
const TERRITORY_PLACES: [string, string, number, number][] = [
  ['San Juan', 'PR', 18.4655, -66.1057], ['Hagatna', 'GU', 13.4443, 144.7937], ['Charlotte Amalie', 'VI', 18.3419, -64.9307],
  ['Pago Pago', 'AS', -14.2756, -170.702], ['Saipan', 'MP', 15.1778, 145.7509],
];
const FOREIGN_PLACES: [string, number, number][] = [
  ['Toronto', 43.6532, -79.3832], ['Montreal', 45.5017, -73.5673], ['Vancouver', 49.2827, -123.1207],
  ['Victoria BC', 48.4284, -123.3656], ['Ottawa', 45.4215, -75.6972], ['Quebec City', 46.8139, -71.208],
  ['Winnipeg', 49.8951, -97.1384], ['Thunder Bay', 48.3809, -89.2477], ['Kingston ON', 44.2312, -76.486],
  ['Whitehorse', 60.7212, -135.0568], ['Prince Rupert', 54.315, -130.3208], ['Tijuana', 32.5149, -117.0382],
  ['Mexicali', 32.6245, -115.4523], ['Ciudad Juarez', 31.6904, -106.4245], ['Nuevo Laredo', 27.4763, -99.5164],
  ['Monterrey', 25.6866, -100.3161], ['Havana', 23.1136, -82.3666], ['Nassau', 25.0443, -77.3504],
  ['Bimini', 25.7277, -79.297], ['Provideniya', 64.4235, -173.2258], ['Anadyr', 64.7337, 177.5089],
  ['Halifax', 44.6488, -63.5752], ['Saint John NB', 45.2733, -66.0633], ['Tortola', 18.4286, -64.6185],
  ['London', 51.5074, -0.1278], ['Mexico City', 19.4326, -99.1332], ['Nuuk', 64.1814, -51.6941],
];

test('US outlines hold the 50 states’ cities, including Alaska across the antimeridian and Hawaii', () => {
  for (const [name, lat, lon] of US_PLACES) assert.equal(countryOf(lat, lon, ['US']), 'US', name);
});

test('territories are their own codes, all protected for a US deployment', () => {
  const us = ['US', 'PR', 'VI', 'GU', 'MP', 'AS'];
  for (const [name, code, lat, lon] of TERRITORY_PLACES) assert.equal(countryOf(lat, lon, us), code, name);
});

test('neighbours across the Canadian and Mexican borders and nearby islands are outside', () => {
  const us = ['US', 'PR', 'VI', 'GU', 'MP', 'AS'];
  for (const [name, lat, lon] of FOREIGN_PLACES) assert.equal(countryOf(lat, lon, us), undefined, name);
});

test('Canada is its box minus the US outlines', () => {
  for (const name of ['Toronto', 'Montreal', 'Vancouver', 'Winnipeg', 'Whitehorse', 'Halifax']) {
    const [, lat, lon] = FOREIGN_PLACES.find((p) => p[0] === name)!;
    assert.equal(countryOf(lat, lon, ['CA']), 'CA', name);
  }
  for (const [name, lat, lon] of US_PLACES.filter(([, lat]) => lat > 41.6)) {
    assert.equal(countryOf(lat, lon, ['CA']), undefined, name);
  }
});

test('inRegion honours include and exclude shapes', () => {
  const r = { include: [{ box: [0, 0, 10, 10] as const }], exclude: [{ polygon: [[2, 2], [2, 4], [4, 4], [4, 2]] as const }] };
  assert.equal(inRegion(1, 1, r), true);
  assert.equal(inRegion(3, 3, r), false);
  assert.equal(inRegion(11, 1, r), false);
  assert.equal(countryOf(51.5074, -0.1278, ['GB']), 'GB');
  assert.equal(countryOf(53.3498, -6.2603, ['GB']), undefined, 'Dublin');
  assert.equal(countryOf(-33.8688, 151.2093, ['AU']), 'AU');
  assert.equal(countryOf(-36.8485, 174.7633, ['NZ', 'AU']), 'NZ');
  assert.ok(COUNTRY_REGIONS.US);
});
