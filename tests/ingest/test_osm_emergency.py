"""OSM extracts give the emergency layers: AEDs from ``emergency=defibrillator``, hospitals with their
``emergency`` tag, and roads keep ``oneway`` (roundabouts one-way) and ``maxspeed`` for the drive network."""

from __future__ import annotations

from geo.drive import build_drive_network
from layers.catalogue import get_spec
from layers.osm import read_osm_layers
from layers.validate import validate_layer

OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version='0.6' generator='hand'>
  <node id='1' lat='30.6000' lon='104.0000'/>
  <node id='2' lat='30.6000' lon='104.0100'/>
  <node id='3' lat='30.6050' lon='104.0100'/>
  <node id='4' lat='30.6050' lon='104.0000'/>
  <node id='5' lat='30.6020' lon='104.0020'/>
  <node id='6' lat='30.6020' lon='104.0030'/>
  <node id='7' lat='30.6030' lon='104.0030'/>
  <node id='8' lat='30.6030' lon='104.0020'/>
  <node id='20' lat='30.6001' lon='104.0050'>
    <tag k='emergency' v='defibrillator'/><tag k='defibrillator:location' v='体育馆一楼大厅'/>
    <tag k='level' v='1'/><tag k='opening_hours' v='Mo-Su 08:00-22:00'/><tag k='operator' v='市体育局'/>
    <tag k='phone' v='028-0000-0001'/>
  </node>
  <node id='21' lat='30.6049' lon='104.0090'>
    <tag k='emergency' v='defibrillator'/><tag k='defibrillator:access' v='yes'/>
  </node>
  <node id='22' lat='30.6040' lon='104.0010'>
    <tag k='amenity' v='hospital'/><tag k='name' v='第三人民医院'/><tag k='emergency' v='yes'/>
    <tag k='emergency:phone' v='028-0000-0120'/>
  </node>
  <node id='23' lat='30.6010' lon='104.0080'>
    <tag k='healthcare' v='hospital'/><tag k='name' v='康复医院'/><tag k='emergency' v='no'/>
  </node>
  <way id='100'><nd ref='1'/><nd ref='2'/><tag k='highway' v='primary'/><tag k='maxspeed' v='60'/></way>
  <way id='101'><nd ref='2'/><nd ref='3'/><tag k='highway' v='residential'/><tag k='oneway' v='yes'/></way>
  <way id='102'><nd ref='3'/><nd ref='4'/><tag k='highway' v='residential'/><tag k='oneway' v='-1'/></way>
  <way id='103'><nd ref='4'/><nd ref='1'/><tag k='highway' v='tertiary'/><tag k='maxspeed' v='30 mph'/></way>
  <way id='104'><nd ref='5'/><nd ref='6'/><nd ref='7'/><nd ref='8'/><nd ref='5'/>
    <tag k='highway' v='tertiary'/><tag k='junction' v='roundabout'/></way>
</osm>
"""


def test_osm_gives_aeds_hospitals_and_one_way_roads(tmp_path):
    path = tmp_path / "mini.osm"
    path.write_text(OSM, encoding="utf-8")
    layers = read_osm_layers(path)
    aeds = layers["aeds"].sort_values("feature_id").reset_index(drop=True)
    assert len(aeds) == 2
    first = aeds[aeds["building"].notna()].iloc[0]
    assert (first["building"], first["floor"], first["opening_hours"], first["owner"], first["phone"]) == (
        "体育馆一楼大厅", "1", "Mo-Su 08:00-22:00", "市体育局", "028-0000-0001")
    assert aeds["opening_hours"].tolist().count("24/7") == 1  # defibrillator:access=yes: always reachable
    hospitals = layers["hospitals"].set_index("name")
    assert bool(hospitals.loc["第三人民医院", "emergency"]) and hospitals.loc["第三人民医院", "phone"] == "028-0000-0120"
    assert not bool(hospitals.loc["康复医院", "emergency"])
    roads = layers["walk_network"].set_index("feature_id")
    oneway = {k: (v if isinstance(v, str) else None) for k, v in roads["oneway"].items()}
    assert oneway == {"osm-way-100": None, "osm-way-101": "yes", "osm-way-102": "-1", "osm-way-103": None,
                      "osm-way-104": "yes"}
    assert roads.loc["osm-way-103", "maxspeed"] == "30 mph"
    for name in ("aeds", "hospitals", "walk_network"):  # each is a valid catalogue layer as read
        _stored, report = validate_layer(layers[name], get_spec(name), source="mini.osm")
        assert report.ok, report.summary()
    net = build_drive_network(layers["walk_network"])
    assert net.n_one_way == 2 + 4  # two one-way streets and the roundabout's four pieces
