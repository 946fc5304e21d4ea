//! Where a shipment starts and ends, and how far apart that is (SCOR-METRICS §8.2: distance).
//!
//! - [`locate`]: an [`Address`]'s point: its own coordinates when it has them, else the
//!   centroid of its region (US states, Brazilian states), else of its country, with the
//!   [`Precision`] of the answer;
//! - [`great_circle_metres`]: the haversine distance between two points, in whole metres;
//! - [`distance_metres`]: the distance between two located places, or why it is not known.
//!
//! Centroid tables, converted exactly to microdegrees (six decimals in the sources):
//! - US states, DC and Puerto Rico, and countries (ISO 3166-1 alpha-2): Google's Dataset
//!   Publishing Language canonical `states.csv` and `countries.csv`
//!   (developers.google.com/public-data/docs/canonical), the geographic centres of each area;
//! - Brazilian states (the Olist data's `customer_state`/`seller_state`): the `estados` table
//!   of the kelvins/municipios-brasileiros data set (MIT), from IBGE, two decimals (about 1 km).

use flowline_core::master::{Address, Coordinates};
use serde::{Deserialize, Serialize};

/// The Earth's mean radius, metres: the sphere the haversine formula uses. A sphere errs from
/// the WGS 84 ellipsoid by up to about 0.5 %, far less than a centroid's own error.
pub const EARTH_RADIUS_METRES: f64 = 6_371_000.0;

/// How precisely a place is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// The address's own coordinates.
    Exact,
    /// The centroid of its state or region.
    Region,
    /// The centroid of its country.
    Country,
}

/// A located address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// The point.
    pub coordinates: Coordinates,
    /// How it was found.
    pub precision: Precision,
    /// The address's ISO 3166-1 alpha-2 country.
    pub country: String,
}

/// Why a distance is not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownDistance {
    /// One end has no coordinates and neither its region nor its country is in the tables.
    NotLocated,
    /// Both ends fall on the same centroid, or one end is known only by its country and both
    /// are in that country: the distance is below what the tables can tell (it is not zero).
    TooCoarse,
}

/// A centroid of the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Centroid {
    code: &'static str,
    latitude_microdegrees: i32,
    longitude_microdegrees: i32,
}

const fn centroid(
    code: &'static str,
    latitude_microdegrees: i32,
    longitude_microdegrees: i32,
) -> Centroid {
    Centroid {
        code,
        latitude_microdegrees,
        longitude_microdegrees,
    }
}

impl Centroid {
    fn coordinates(self) -> Coordinates {
        Coordinates {
            latitude_microdegrees: self.latitude_microdegrees,
            longitude_microdegrees: self.longitude_microdegrees,
        }
    }
}

/// Finds `code` in a table sorted by code.
fn find(table: &[Centroid], code: &str) -> Option<Centroid> {
    table
        .binary_search_by(|entry| entry.code.cmp(code))
        .ok()
        .and_then(|index| table.get(index).copied())
}

/// The region tables by country.
fn regions_of(country: &str) -> &'static [Centroid] {
    match country {
        "US" => &US_STATES,
        "BR" => &BRAZIL_STATES,
        _ => &[],
    }
}

/// A region code as the tables spell it: trimmed, upper case, without an ISO 3166-2 country
/// prefix (`br-sp` → `SP`).
fn region_code(country: &str, region: &str) -> String {
    let code = region.trim().to_ascii_uppercase();
    match code
        .strip_prefix(country)
        .and_then(|rest| rest.strip_prefix('-'))
    {
        Some(rest) => rest.to_string(),
        None => code,
    }
}

/// The centroid standing in for a region of a country, if the tables have it.
pub fn region_centroid(country: &str, region: &str) -> Option<Coordinates> {
    find(regions_of(country), &region_code(country, region)).map(Centroid::coordinates)
}

/// The centroid standing in for a country, if the tables have it.
pub fn country_centroid(country: &str) -> Option<Coordinates> {
    find(&COUNTRIES, country).map(Centroid::coordinates)
}

/// An address's point: its coordinates, else its region's centroid, else its country's.
pub fn locate(address: &Address) -> Option<Place> {
    let country = address.country.as_str();
    let found = match address.coordinates {
        Some(coordinates) => Some((coordinates, Precision::Exact)),
        None => region_centroid(country, &address.region)
            .map(|point| (point, Precision::Region))
            .or_else(|| country_centroid(country).map(|point| (point, Precision::Country))),
    };
    found.map(|(coordinates, precision)| Place {
        coordinates,
        precision,
        country: address.country.clone(),
    })
}

/// The distance between two places, in whole metres, or why it is not known.
pub fn distance_metres(from: Option<&Place>, to: Option<&Place>) -> Result<i64, UnknownDistance> {
    let (Some(from), Some(to)) = (from, to) else {
        return Err(UnknownDistance::NotLocated);
    };
    let country_only = from.precision == Precision::Country || to.precision == Precision::Country;
    let same_centroid = from.precision != Precision::Exact
        && to.precision != Precision::Exact
        && from.coordinates == to.coordinates;
    if same_centroid || (country_only && from.country == to.country) {
        return Err(UnknownDistance::TooCoarse);
    }
    Ok(great_circle_metres(from.coordinates, to.coordinates))
}

/// The great-circle distance between two points on a sphere of [`EARTH_RADIUS_METRES`], by the
/// haversine formula, rounded to the nearest metre (half away from zero):
///
/// `h = sin²(Δφ/2) + cos φ₁ · cos φ₂ · sin²(Δλ/2)`, `d = 2 R · asin(√h)`.
///
/// The trigonometry is in `f64`, good to well under a millimetre at these distances, so the
/// rounded metre is the same on every platform except for a distance within a hair of a half
/// metre. The result is at most half the circumference, about 20,015 km.
pub fn great_circle_metres(from: Coordinates, to: Coordinates) -> i64 {
    let radians = |microdegrees: i32| (f64::from(microdegrees) / 1_000_000.0).to_radians();
    let (phi_from, phi_to) = (
        radians(from.latitude_microdegrees),
        radians(to.latitude_microdegrees),
    );
    let delta_phi = phi_to - phi_from;
    let delta_lambda = radians(to.longitude_microdegrees) - radians(from.longitude_microdegrees);
    let haversine = (delta_phi / 2.0).sin().powi(2)
        + phi_from.cos() * phi_to.cos() * (delta_lambda / 2.0).sin().powi(2);
    // Rounding can take h a hair outside [0, 1] for antipodal points.
    let central_angle = 2.0 * haversine.clamp(0.0, 1.0).sqrt().asin();
    // At most π × 6,371,000 ≈ 2.0 × 10⁷: always fits.
    (EARTH_RADIUS_METRES * central_angle).round() as i64
}

const US_STATES: [Centroid; 52] = [
    centroid("AK", 63_588_753, -154_493_062), // Alaska
    centroid("AL", 32_318_231, -86_902_298),  // Alabama
    centroid("AR", 35_201_050, -91_831_833),  // Arkansas
    centroid("AZ", 34_048_928, -111_093_731), // Arizona
    centroid("CA", 36_778_261, -119_417_932), // California
    centroid("CO", 39_550_051, -105_782_067), // Colorado
    centroid("CT", 41_603_221, -73_087_749),  // Connecticut
    centroid("DC", 38_905_985, -77_033_418),  // District of Columbia
    centroid("DE", 38_910_832, -75_527_670),  // Delaware
    centroid("FL", 27_664_827, -81_515_754),  // Florida
    centroid("GA", 32_157_435, -82_907_123),  // Georgia
    centroid("HI", 19_898_682, -155_665_857), // Hawaii
    centroid("IA", 41_878_003, -93_097_702),  // Iowa
    centroid("ID", 44_068_202, -114_742_041), // Idaho
    centroid("IL", 40_633_125, -89_398_528),  // Illinois
    centroid("IN", 40_551_217, -85_602_364),  // Indiana
    centroid("KS", 39_011_902, -98_484_246),  // Kansas
    centroid("KY", 37_839_333, -84_270_018),  // Kentucky
    centroid("LA", 31_244_823, -92_145_024),  // Louisiana
    centroid("MA", 42_407_211, -71_382_437),  // Massachusetts
    centroid("MD", 39_045_755, -76_641_271),  // Maryland
    centroid("ME", 45_253_783, -69_445_469),  // Maine
    centroid("MI", 44_314_844, -85_602_364),  // Michigan
    centroid("MN", 46_729_553, -94_685_900),  // Minnesota
    centroid("MO", 37_964_253, -91_831_833),  // Missouri
    centroid("MS", 32_354_668, -89_398_528),  // Mississippi
    centroid("MT", 46_879_682, -110_362_566), // Montana
    centroid("NC", 35_759_573, -79_019_300),  // North Carolina
    centroid("ND", 47_551_493, -101_002_012), // North Dakota
    centroid("NE", 41_492_537, -99_901_813),  // Nebraska
    centroid("NH", 43_193_852, -71_572_395),  // New Hampshire
    centroid("NJ", 40_058_324, -74_405_661),  // New Jersey
    centroid("NM", 34_972_730, -105_032_363), // New Mexico
    centroid("NV", 38_802_610, -116_419_389), // Nevada
    centroid("NY", 43_299_428, -74_217_933),  // New York
    centroid("OH", 40_417_287, -82_907_123),  // Ohio
    centroid("OK", 35_007_752, -97_092_877),  // Oklahoma
    centroid("OR", 43_804_133, -120_554_201), // Oregon
    centroid("PA", 41_203_322, -77_194_525),  // Pennsylvania
    centroid("PR", 18_220_833, -66_590_149),  // Puerto Rico
    centroid("RI", 41_580_095, -71_477_429),  // Rhode Island
    centroid("SC", 33_836_081, -81_163_725),  // South Carolina
    centroid("SD", 43_969_515, -99_901_813),  // South Dakota
    centroid("TN", 35_517_491, -86_580_447),  // Tennessee
    centroid("TX", 31_968_599, -99_901_813),  // Texas
    centroid("UT", 39_320_980, -111_093_731), // Utah
    centroid("VA", 37_431_573, -78_656_894),  // Virginia
    centroid("VT", 44_558_803, -72_577_841),  // Vermont
    centroid("WA", 47_751_074, -120_740_139), // Washington
    centroid("WI", 43_784_440, -88_787_868),  // Wisconsin
    centroid("WV", 38_597_626, -80_454_903),  // West Virginia
    centroid("WY", 43_075_968, -107_290_284), // Wyoming
];

const BRAZIL_STATES: [Centroid; 27] = [
    centroid("AC", -8_770_000, -70_550_000),  // Acre
    centroid("AL", -9_620_000, -36_820_000),  // Alagoas
    centroid("AM", -3_470_000, -65_100_000),  // Amazonas
    centroid("AP", 1_410_000, -51_770_000),   // Amapá
    centroid("BA", -13_290_000, -41_710_000), // Bahia
    centroid("CE", -5_200_000, -39_530_000),  // Ceará
    centroid("DF", -15_830_000, -47_860_000), // Distrito Federal
    centroid("ES", -19_190_000, -40_340_000), // Espírito Santo
    centroid("GO", -15_980_000, -49_860_000), // Goiás
    centroid("MA", -5_420_000, -45_440_000),  // Maranhão
    centroid("MG", -18_100_000, -44_380_000), // Minas Gerais
    centroid("MS", -20_510_000, -54_540_000), // Mato Grosso do Sul
    centroid("MT", -12_640_000, -55_420_000), // Mato Grosso
    centroid("PA", -3_790_000, -52_480_000),  // Pará
    centroid("PB", -7_280_000, -36_720_000),  // Paraíba
    centroid("PE", -8_380_000, -37_860_000),  // Pernambuco
    centroid("PI", -6_600_000, -42_280_000),  // Piauí
    centroid("PR", -24_890_000, -51_550_000), // Paraná
    centroid("RJ", -22_250_000, -42_660_000), // Rio de Janeiro
    centroid("RN", -5_810_000, -36_590_000),  // Rio Grande do Norte
    centroid("RO", -10_830_000, -63_340_000), // Rondônia
    centroid("RR", 1_990_000, -61_330_000),   // Roraima
    centroid("RS", -30_170_000, -53_500_000), // Rio Grande do Sul
    centroid("SC", -27_450_000, -50_950_000), // Santa Catarina
    centroid("SE", -10_570_000, -37_450_000), // Sergipe
    centroid("SP", -22_190_000, -48_790_000), // São Paulo
    centroid("TO", -9_460_000, -48_260_000),  // Tocantins
];

const COUNTRIES: [Centroid; 242] = [
    centroid("AD", 42_546_245, 1_601_554),     // Andorra
    centroid("AE", 23_424_076, 53_847_818),    // United Arab Emirates
    centroid("AF", 33_939_110, 67_709_953),    // Afghanistan
    centroid("AG", 17_060_816, -61_796_428),   // Antigua and Barbuda
    centroid("AI", 18_220_554, -63_068_615),   // Anguilla
    centroid("AL", 41_153_332, 20_168_331),    // Albania
    centroid("AM", 40_069_099, 45_038_189),    // Armenia
    centroid("AO", -11_202_692, 17_873_887),   // Angola
    centroid("AQ", -75_250_973, -71_389),      // Antarctica
    centroid("AR", -38_416_097, -63_616_672),  // Argentina
    centroid("AS", -14_270_972, -170_132_217), // American Samoa
    centroid("AT", 47_516_231, 14_550_072),    // Austria
    centroid("AU", -25_274_398, 133_775_136),  // Australia
    centroid("AW", 12_521_110, -69_968_338),   // Aruba
    centroid("AZ", 40_143_105, 47_576_927),    // Azerbaijan
    centroid("BA", 43_915_886, 17_679_076),    // Bosnia and Herzegovina
    centroid("BB", 13_193_887, -59_543_198),   // Barbados
    centroid("BD", 23_684_994, 90_356_331),    // Bangladesh
    centroid("BE", 50_503_887, 4_469_936),     // Belgium
    centroid("BF", 12_238_333, -1_561_593),    // Burkina Faso
    centroid("BG", 42_733_883, 25_485_830),    // Bulgaria
    centroid("BH", 25_930_414, 50_637_772),    // Bahrain
    centroid("BI", -3_373_056, 29_918_886),    // Burundi
    centroid("BJ", 9_307_690, 2_315_834),      // Benin
    centroid("BM", 32_321_384, -64_757_370),   // Bermuda
    centroid("BN", 4_535_277, 114_727_669),    // Brunei
    centroid("BO", -16_290_154, -63_588_653),  // Bolivia
    centroid("BR", -14_235_004, -51_925_280),  // Brazil
    centroid("BS", 25_034_280, -77_396_280),   // Bahamas
    centroid("BT", 27_514_162, 90_433_601),    // Bhutan
    centroid("BV", -54_423_199, 3_413_194),    // Bouvet Island
    centroid("BW", -22_328_474, 24_684_866),   // Botswana
    centroid("BY", 53_709_807, 27_953_389),    // Belarus
    centroid("BZ", 17_189_877, -88_497_650),   // Belize
    centroid("CA", 56_130_366, -106_346_771),  // Canada
    centroid("CC", -12_164_165, 96_870_956),   // Cocos (Keeling) Islands
    centroid("CD", -4_038_333, 21_758_664),    // Congo (DRC)
    centroid("CF", 6_611_111, 20_939_444),     // Central African Republic
    centroid("CG", -228_021, 15_827_659),      // Congo (Republic)
    centroid("CH", 46_818_188, 8_227_512),     // Switzerland
    centroid("CI", 7_539_989, -5_547_080),     // Côte d'Ivoire
    centroid("CK", -21_236_736, -159_777_671), // Cook Islands
    centroid("CL", -35_675_147, -71_542_969),  // Chile
    centroid("CM", 7_369_722, 12_354_722),     // Cameroon
    centroid("CN", 35_861_660, 104_195_397),   // China
    centroid("CO", 4_570_868, -74_297_333),    // Colombia
    centroid("CR", 9_748_917, -83_753_428),    // Costa Rica
    centroid("CU", 21_521_757, -77_781_167),   // Cuba
    centroid("CV", 16_002_082, -24_013_197),   // Cape Verde
    centroid("CX", -10_447_525, 105_690_449),  // Christmas Island
    centroid("CY", 35_126_413, 33_429_859),    // Cyprus
    centroid("CZ", 49_817_492, 15_472_962),    // Czech Republic
    centroid("DE", 51_165_691, 10_451_526),    // Germany
    centroid("DJ", 11_825_138, 42_590_275),    // Djibouti
    centroid("DK", 56_263_920, 9_501_785),     // Denmark
    centroid("DM", 15_414_999, -61_370_976),   // Dominica
    centroid("DO", 18_735_693, -70_162_651),   // Dominican Republic
    centroid("DZ", 28_033_886, 1_659_626),     // Algeria
    centroid("EC", -1_831_239, -78_183_406),   // Ecuador
    centroid("EE", 58_595_272, 25_013_607),    // Estonia
    centroid("EG", 26_820_553, 30_802_498),    // Egypt
    centroid("EH", 24_215_527, -12_885_834),   // Western Sahara
    centroid("ER", 15_179_384, 39_782_334),    // Eritrea
    centroid("ES", 40_463_667, -3_749_220),    // Spain
    centroid("ET", 9_145_000, 40_489_673),     // Ethiopia
    centroid("FI", 61_924_110, 25_748_151),    // Finland
    centroid("FJ", -16_578_193, 179_414_413),  // Fiji
    centroid("FK", -51_796_253, -59_523_613),  // Falkland Islands
    centroid("FM", 7_425_554, 150_550_812),    // Micronesia
    centroid("FO", 61_892_635, -6_911_806),    // Faroe Islands
    centroid("FR", 46_227_638, 2_213_749),     // France
    centroid("GA", -803_689, 11_609_444),      // Gabon
    centroid("GB", 55_378_051, -3_435_973),    // United Kingdom
    centroid("GD", 12_262_776, -61_604_171),   // Grenada
    centroid("GE", 42_315_407, 43_356_892),    // Georgia
    centroid("GF", 3_933_889, -53_125_782),    // French Guiana
    centroid("GG", 49_465_691, -2_585_278),    // Guernsey
    centroid("GH", 7_946_527, -1_023_194),     // Ghana
    centroid("GI", 36_137_741, -5_345_374),    // Gibraltar
    centroid("GL", 71_706_936, -42_604_303),   // Greenland
    centroid("GM", 13_443_182, -15_310_139),   // Gambia
    centroid("GN", 9_945_587, -9_696_645),     // Guinea
    centroid("GP", 16_995_971, -62_067_641),   // Guadeloupe
    centroid("GQ", 1_650_801, 10_267_895),     // Equatorial Guinea
    centroid("GR", 39_074_208, 21_824_312),    // Greece
    centroid("GS", -54_429_579, -36_587_909),  // South Georgia and the South Sandwich Islands
    centroid("GT", 15_783_471, -90_230_759),   // Guatemala
    centroid("GU", 13_444_304, 144_793_731),   // Guam
    centroid("GW", 11_803_749, -15_180_413),   // Guinea-Bissau
    centroid("GY", 4_860_416, -58_930_180),    // Guyana
    centroid("HK", 22_396_428, 114_109_497),   // Hong Kong
    centroid("HM", -53_081_810, 73_504_158),   // Heard Island and McDonald Islands
    centroid("HN", 15_199_999, -86_241_905),   // Honduras
    centroid("HR", 45_100_000, 15_200_000),    // Croatia
    centroid("HT", 18_971_187, -72_285_215),   // Haiti
    centroid("HU", 47_162_494, 19_503_304),    // Hungary
    centroid("ID", -789_275, 113_921_327),     // Indonesia
    centroid("IE", 53_412_910, -8_243_890),    // Ireland
    centroid("IL", 31_046_051, 34_851_612),    // Israel
    centroid("IM", 54_236_107, -4_548_056),    // Isle of Man
    centroid("IN", 20_593_684, 78_962_880),    // India
    centroid("IO", -6_343_194, 71_876_519),    // British Indian Ocean Territory
    centroid("IQ", 33_223_191, 43_679_291),    // Iraq
    centroid("IR", 32_427_908, 53_688_046),    // Iran
    centroid("IS", 64_963_051, -19_020_835),   // Iceland
    centroid("IT", 41_871_940, 12_567_380),    // Italy
    centroid("JE", 49_214_439, -2_131_250),    // Jersey
    centroid("JM", 18_109_581, -77_297_508),   // Jamaica
    centroid("JO", 30_585_164, 36_238_414),    // Jordan
    centroid("JP", 36_204_824, 138_252_924),   // Japan
    centroid("KE", -23_559, 37_906_193),       // Kenya
    centroid("KG", 41_204_380, 74_766_098),    // Kyrgyzstan
    centroid("KH", 12_565_679, 104_990_963),   // Cambodia
    centroid("KI", -3_370_417, -168_734_039),  // Kiribati
    centroid("KM", -11_875_001, 43_872_219),   // Comoros
    centroid("KN", 17_357_822, -62_782_998),   // Saint Kitts and Nevis
    centroid("KP", 40_339_852, 127_510_093),   // North Korea
    centroid("KR", 35_907_757, 127_766_922),   // South Korea
    centroid("KW", 29_311_660, 47_481_766),    // Kuwait
    centroid("KY", 19_513_469, -80_566_956),   // Cayman Islands
    centroid("KZ", 48_019_573, 66_923_684),    // Kazakhstan
    centroid("LA", 19_856_270, 102_495_496),   // Laos
    centroid("LB", 33_854_721, 35_862_285),    // Lebanon
    centroid("LC", 13_909_444, -60_978_893),   // Saint Lucia
    centroid("LI", 47_166_000, 9_555_373),     // Liechtenstein
    centroid("LK", 7_873_054, 80_771_797),     // Sri Lanka
    centroid("LR", 6_428_055, -9_429_499),     // Liberia
    centroid("LS", -29_609_988, 28_233_608),   // Lesotho
    centroid("LT", 55_169_438, 23_881_275),    // Lithuania
    centroid("LU", 49_815_273, 6_129_583),     // Luxembourg
    centroid("LV", 56_879_635, 24_603_189),    // Latvia
    centroid("LY", 26_335_100, 17_228_331),    // Libya
    centroid("MA", 31_791_702, -7_092_620),    // Morocco
    centroid("MC", 43_750_298, 7_412_841),     // Monaco
    centroid("MD", 47_411_631, 28_369_885),    // Moldova
    centroid("ME", 42_708_678, 19_374_390),    // Montenegro
    centroid("MG", -18_766_947, 46_869_107),   // Madagascar
    centroid("MH", 7_131_474, 171_184_478),    // Marshall Islands
    centroid("MK", 41_608_635, 21_745_275),    // North Macedonia
    centroid("ML", 17_570_692, -3_996_166),    // Mali
    centroid("MM", 21_913_965, 95_956_223),    // Myanmar
    centroid("MN", 46_862_496, 103_846_656),   // Mongolia
    centroid("MO", 22_198_745, 113_543_873),   // Macau
    centroid("MP", 17_330_830, 145_384_690),   // Northern Mariana Islands
    centroid("MQ", 14_641_528, -61_024_174),   // Martinique
    centroid("MR", 21_007_890, -10_940_835),   // Mauritania
    centroid("MS", 16_742_498, -62_187_366),   // Montserrat
    centroid("MT", 35_937_496, 14_375_416),    // Malta
    centroid("MU", -20_348_404, 57_552_152),   // Mauritius
    centroid("MV", 3_202_778, 73_220_680),     // Maldives
    centroid("MW", -13_254_308, 34_301_525),   // Malawi
    centroid("MX", 23_634_501, -102_552_784),  // Mexico
    centroid("MY", 4_210_484, 101_975_766),    // Malaysia
    centroid("MZ", -18_665_695, 35_529_562),   // Mozambique
    centroid("NA", -22_957_640, 18_490_410),   // Namibia
    centroid("NC", -20_904_305, 165_618_042),  // New Caledonia
    centroid("NE", 17_607_789, 8_081_666),     // Niger
    centroid("NF", -29_040_835, 167_954_712),  // Norfolk Island
    centroid("NG", 9_081_999, 8_675_277),      // Nigeria
    centroid("NI", 12_865_416, -85_207_229),   // Nicaragua
    centroid("NL", 52_132_633, 5_291_266),     // Netherlands
    centroid("NO", 60_472_024, 8_468_946),     // Norway
    centroid("NP", 28_394_857, 84_124_008),    // Nepal
    centroid("NR", -522_778, 166_931_503),     // Nauru
    centroid("NU", -19_054_445, -169_867_233), // Niue
    centroid("NZ", -40_900_557, 174_885_971),  // New Zealand
    centroid("OM", 21_512_583, 55_923_255),    // Oman
    centroid("PA", 8_537_981, -80_782_127),    // Panama
    centroid("PE", -9_189_967, -75_015_152),   // Peru
    centroid("PF", -17_679_742, -149_406_843), // French Polynesia
    centroid("PG", -6_314_993, 143_955_550),   // Papua New Guinea
    centroid("PH", 12_879_721, 121_774_017),   // Philippines
    centroid("PK", 30_375_321, 69_345_116),    // Pakistan
    centroid("PL", 51_919_438, 19_145_136),    // Poland
    centroid("PM", 46_941_936, -56_271_110),   // Saint Pierre and Miquelon
    centroid("PN", -24_703_615, -127_439_308), // Pitcairn Islands
    centroid("PR", 18_220_833, -66_590_149),   // Puerto Rico
    centroid("PS", 31_952_162, 35_233_154),    // Palestinian Territories
    centroid("PT", 39_399_872, -8_224_454),    // Portugal
    centroid("PW", 7_514_980, 134_582_520),    // Palau
    centroid("PY", -23_442_503, -58_443_832),  // Paraguay
    centroid("QA", 25_354_826, 51_183_884),    // Qatar
    centroid("RE", -21_115_141, 55_536_384),   // Réunion
    centroid("RO", 45_943_161, 24_966_760),    // Romania
    centroid("RS", 44_016_521, 21_005_859),    // Serbia
    centroid("RU", 61_524_010, 105_318_756),   // Russia
    centroid("RW", -1_940_278, 29_873_888),    // Rwanda
    centroid("SA", 23_885_942, 45_079_162),    // Saudi Arabia
    centroid("SB", -9_645_710, 160_156_194),   // Solomon Islands
    centroid("SC", -4_679_574, 55_491_977),    // Seychelles
    centroid("SD", 12_862_807, 30_217_636),    // Sudan
    centroid("SE", 60_128_161, 18_643_501),    // Sweden
    centroid("SG", 1_352_083, 103_819_836),    // Singapore
    centroid("SH", -24_143_474, -10_030_696),  // Saint Helena
    centroid("SI", 46_151_241, 14_995_463),    // Slovenia
    centroid("SJ", 77_553_604, 23_670_272),    // Svalbard and Jan Mayen
    centroid("SK", 48_669_026, 19_699_024),    // Slovakia
    centroid("SL", 8_460_555, -11_779_889),    // Sierra Leone
    centroid("SM", 43_942_360, 12_457_777),    // San Marino
    centroid("SN", 14_497_401, -14_452_362),   // Senegal
    centroid("SO", 5_152_149, 46_199_616),     // Somalia
    centroid("SR", 3_919_305, -56_027_783),    // Suriname
    centroid("ST", 186_360, 6_613_081),        // São Tomé and Príncipe
    centroid("SV", 13_794_185, -88_896_530),   // El Salvador
    centroid("SY", 34_802_075, 38_996_815),    // Syria
    centroid("SZ", -26_522_503, 31_465_866),   // Eswatini
    centroid("TC", 21_694_025, -71_797_928),   // Turks and Caicos Islands
    centroid("TD", 15_454_166, 18_732_207),    // Chad
    centroid("TF", -49_280_366, 69_348_557),   // French Southern Territories
    centroid("TG", 8_619_543, 824_782),        // Togo
    centroid("TH", 15_870_032, 100_992_541),   // Thailand
    centroid("TJ", 38_861_034, 71_276_093),    // Tajikistan
    centroid("TK", -8_967_363, -171_855_881),  // Tokelau
    centroid("TL", -8_874_217, 125_727_539),   // Timor-Leste
    centroid("TM", 38_969_719, 59_556_278),    // Turkmenistan
    centroid("TN", 33_886_917, 9_537_499),     // Tunisia
    centroid("TO", -21_178_986, -175_198_242), // Tonga
    centroid("TR", 38_963_745, 35_243_322),    // Turkey
    centroid("TT", 10_691_803, -61_222_503),   // Trinidad and Tobago
    centroid("TV", -7_109_535, 177_649_330),   // Tuvalu
    centroid("TW", 23_697_810, 120_960_515),   // Taiwan
    centroid("TZ", -6_369_028, 34_888_822),    // Tanzania
    centroid("UA", 48_379_433, 31_165_580),    // Ukraine
    centroid("UG", 1_373_333, 32_290_275),     // Uganda
    centroid("US", 37_090_240, -95_712_891),   // United States
    centroid("UY", -32_522_779, -55_765_835),  // Uruguay
    centroid("UZ", 41_377_491, 64_585_262),    // Uzbekistan
    centroid("VA", 41_902_916, 12_453_389),    // Vatican City
    centroid("VC", 12_984_305, -61_287_228),   // Saint Vincent and the Grenadines
    centroid("VE", 6_423_750, -66_589_730),    // Venezuela
    centroid("VG", 18_420_695, -64_639_968),   // British Virgin Islands
    centroid("VI", 18_335_765, -64_896_335),   // U.S. Virgin Islands
    centroid("VN", 14_058_324, 108_277_199),   // Vietnam
    centroid("VU", -15_376_706, 166_959_158),  // Vanuatu
    centroid("WF", -13_768_752, -177_156_097), // Wallis and Futuna
    centroid("WS", -13_759_029, -172_104_629), // Samoa
    centroid("XK", 42_602_636, 20_902_977),    // Kosovo
    centroid("YE", 15_552_727, 48_516_388),    // Yemen
    centroid("YT", -12_827_500, 45_166_244),   // Mayotte
    centroid("ZA", -30_559_482, 22_937_506),   // South Africa
    centroid("ZM", -13_133_897, 27_849_332),   // Zambia
    centroid("ZW", -19_015_438, 29_154_857),   // Zimbabwe
];

#[cfg(test)]
mod tests {
    use super::*;
    use flowline_core::master::TimeZoneName;

    fn point(latitude_microdegrees: i32, longitude_microdegrees: i32) -> Coordinates {
        Coordinates {
            latitude_microdegrees,
            longitude_microdegrees,
        }
    }

    fn address(country: &str, region: &str, coordinates: Option<Coordinates>) -> Address {
        Address {
            recipient: None,
            lines: Vec::new(),
            city: String::new(),
            region: region.into(),
            postal_code: String::new(),
            country: country.into(),
            time_zone: TimeZoneName::parse("UTC").unwrap(),
            coordinates,
        }
    }

    #[test]
    fn one_degree_along_the_equator_is_a_360th_of_the_circumference() {
        // d = R × Δλ = 6,371,000 m × π/180 = 6,371,000 × 0.017453292520 = 111,194.927 m
        //   → 111,195 m.
        assert_eq!(
            great_circle_metres(point(0, 0), point(0, 1_000_000)),
            111_195
        );
        // A quarter of the circumference: 6,371,000 × π/2 = 10,007,543.40 m → 10,007,543 m.
        assert_eq!(
            great_circle_metres(point(0, 0), point(0, 90_000_000)),
            10_007_543
        );
        // Half of it, pole to pole: 6,371,000 × π = 20,015,086.80 m → 20,015,087 m.
        assert_eq!(
            great_circle_metres(point(90_000_000, 0), point(-90_000_000, 0)),
            20_015_087
        );
        assert_eq!(great_circle_metres(point(1, 2), point(1, 2)), 0);
    }

    #[test]
    fn edison_nj_to_dallas_tx_by_haversine() {
        // Edison (40.518700° N, 74.412100° W) to Dallas (32.776700° N, 96.797000° W).
        // φ₁ = 0.707184724 rad, φ₂ = 0.572061333 rad, Δφ = −0.135123391, Δλ = −0.390690208
        // sin²(Δφ/2) = 0.004557641765
        // cos φ₁ · cos φ₂ · sin²(Δλ/2) = 0.760193960 × 0.840786826 × 0.037676784706
        //                              = 0.024081533920
        // h = 0.028639175685; c = 2 asin(√h) = 0.340098991174 rad
        // d = 6,371,000 × 0.340098991174 = 2,166,770.67 m → 2,166,771 m.
        let edison = point(40_518_700, -74_412_100);
        let dallas = point(32_776_700, -96_797_000);
        assert_eq!(great_circle_metres(edison, dallas), 2_166_771);
        // The distance does not depend on the direction.
        assert_eq!(great_circle_metres(dallas, edison), 2_166_771);
    }

    #[test]
    fn a_ship_to_without_coordinates_falls_back_to_its_state_then_its_country() {
        // São Paulo state centroid −22.19, −48.79; Rio de Janeiro −22.25, −42.66 (IBGE via
        // the estados table). φ₁ = −0.387288561, φ₂ = −0.388335759, Δλ = 0.106988683 rad
        // h = 0.000000274156 + 0.925936516 × 0.925540504 × 0.002858915952 = 0.002450341540
        // c = 0.099042325322 rad; d = 6,371,000 × c = 630,998.66 m → 630,999 m.
        let sao_paulo = locate(&address("BR", "SP", None)).unwrap();
        assert_eq!(sao_paulo.precision, Precision::Region);
        assert_eq!(sao_paulo.coordinates, point(-22_190_000, -48_790_000));
        let rio = locate(&address("BR", " rj ", None)).unwrap();
        assert_eq!(distance_metres(Some(&sao_paulo), Some(&rio)), Ok(630_999));
        // ISO 3166-2 codes are read too.
        assert_eq!(
            locate(&address("US", "US-NJ", None)).unwrap().coordinates,
            point(40_058_324, -74_405_661)
        );
        // A region the tables do not know: the country's centroid.
        let ontario = locate(&address("CA", "ON", None)).unwrap();
        assert_eq!(ontario.precision, Precision::Country);
        assert_eq!(ontario.coordinates, point(56_130_366, -106_346_771));
        // Coordinates on the address win over any centroid.
        let reno = locate(&address("US", "NV", Some(point(39_529_600, -119_813_800)))).unwrap();
        assert_eq!(reno.precision, Precision::Exact);
        assert_eq!(reno.coordinates, point(39_529_600, -119_813_800));
        // A country the tables do not know: nowhere.
        assert_eq!(locate(&address("ZZ", "", None)), None);
    }

    #[test]
    fn a_distance_below_what_the_centroids_can_tell_is_unknown_not_zero() {
        let nj = locate(&address("US", "NJ", None)).unwrap();
        let us = locate(&address("US", "", None)).unwrap();
        let other_nj = locate(&address("US", "nj", None)).unwrap();
        let brazil = locate(&address("BR", "", None)).unwrap();
        assert_eq!(
            distance_metres(Some(&nj), Some(&other_nj)),
            Err(UnknownDistance::TooCoarse)
        );
        assert_eq!(
            distance_metres(Some(&nj), Some(&us)),
            Err(UnknownDistance::TooCoarse)
        );
        assert_eq!(
            distance_metres(Some(&nj), None),
            Err(UnknownDistance::NotLocated)
        );
        // Two countries are far enough apart for their centroids.
        assert!(distance_metres(Some(&nj), Some(&brazil)).is_ok());
        // Two exact points at the same place are zero metres apart.
        let exact = locate(&address("US", "NJ", Some(point(1, 1)))).unwrap();
        assert_eq!(distance_metres(Some(&exact), Some(&exact)), Ok(0));
    }

    #[test]
    fn the_tables_are_sorted_unique_and_on_the_globe() {
        for table in [&US_STATES[..], &BRAZIL_STATES[..], &COUNTRIES[..]] {
            for pair in table.windows(2) {
                assert!(
                    pair[0].code < pair[1].code,
                    "{} then {}",
                    pair[0].code,
                    pair[1].code
                );
            }
            for entry in table {
                assert!(
                    entry.coordinates().validate("centroid").is_ok(),
                    "{}",
                    entry.code
                );
            }
        }
        // Every US state and DC, and every Brazilian state and the Federal District.
        assert_eq!(US_STATES.len(), 52);
        assert_eq!(BRAZIL_STATES.len(), 27);
    }
}
