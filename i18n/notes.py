"""Templates of the notes ``geo`` returns (:class:`geo.notes.Note`): code → (Chinese, English).

A template is filled with the note's values by :func:`render_note`; numbers keep the format
the template asks for (``{residents:,.0f}``).  A code without a template is shown as the code
and its values, so a missing translation is visible rather than silent.
"""

from __future__ import annotations

from typing import Any

NOTES: dict[str, tuple[str, str]] = {
    # progress of long work
    "progress.greedy": ("逐个选址：第 {k}/{p} 处", "Choosing sites one by one: {k} of {p}"),
    "progress.swaps": ("交换改进：第 {round} 轮", "Improving by swaps: round {round}"),
    "progress.bound": ("计算最优性界：第 {k}/{n} 步", "Proving the bound: step {k} of {n}"),
    "progress.exact": ("精确求解中（HiGHS）：{seconds:.0f}/{limit:.0f} 秒，与界相差 {gap}",
                       "Solving exactly (HiGHS): {seconds:.0f} of {limit:.0f} s, gap to the bound {gap}"),
    "progress.done": ("完成", "Done"),
    "progress.read_layer": ("读取图层：{layer}", "Reading layer {layer}"),
    "progress.snap": ("把 {places:,} 个地点接入步行路网", "Snapping {places:,} places to the walking network"),
    "progress.snapped": ("{places:,} 个地点已接入路网", "{places:,} places snapped to the network"),
    "progress.distances": ("计算步行距离：{layer}（{k}/{n}）", "Walking distances: {layer} ({k} of {n})"),
    "progress.catchments": ("计算候选点服务范围：第 {k}/{n} 批", "Catchments of the candidates: batch {k} of {n}"),
    "progress.rows": ("已读取 {rows:,} 行", "{rows:,} rows read"),
    # files refused before or while they are read (errors: OneMapError.coded)
    "file.missing": ("{file}：找不到该文件。", "{file}: file not found."),
    "file.empty": ("{file}：文件是空的。", "{file}: the file is empty."),
    "file.not_vector": ("{file}：{suffix} 不是可读取的矢量格式；请使用 {formats}。",
                        "{file}: {suffix} is not a vector format read here; use one of {formats}."),
    "file.shapefile_parts": ("{file}：缺少 {missing}；Shapefile 需要 .shp、.shx、.dbf 一起提供（以及 .prj）。",
                             "{file}: its {missing} are missing; a shapefile needs its .shp, .shx and .dbf "
                             "together (and its .prj)."),
    "file.zip_shapefile_parts": ("{file}：有 {shp} 但缺少 {missing}；Shapefile 需要 .shp、.shx、.dbf 一起提供"
                                 "（坐标系需 .prj），请全部压缩后上传。",
                                 "{file}: has {shp} but not {missing}; a shapefile needs its .shp, .shx and .dbf "
                                 "together (and its .prj for the coordinate system). Zip all of them."),
    "file.several_shapefiles": ("{file}：包含 {n} 个 Shapefile（{names}）；每个文件只交付一个图层。",
                                "{file}: holds {n} shapefiles ({names}); deliver one layer per file."),
    "file.zip_no_layer": ("{file}：包含 {names}；应为一个 Shapefile（.shp 及 .shx、.dbf）或一个 GeoPackage、GeoJSON、KML 文件。",
                          "{file}: holds {names}; expected one shapefile (.shp with .shx and .dbf) or one "
                          "GeoPackage, GeoJSON or KML file."),
    "file.html": ("{file}：这是一个网页（HTML），不是 {suffix} 数据，可能是保存了报错页或登录页。请下载数据文件本身再上传。",
                  "{file}: is a web page (HTML), not {suffix} data — probably an error or log-in page saved "
                  "instead of the file. Download the data file itself and upload that."),
    "file.not_geojson": ("{file}：开头不像 GeoJSON（应以 “{{” 开始）；请确认它是数据文件，而不是报告或网页。",
                         "{file}: does not start like GeoJSON (a JSON object '{{'); check that it is the data file "
                         "and not a report or a page."),
    "file.unreadable_vector": ("{file}：无法作为矢量文件读取（{reason}）。",
                               "{file}: cannot be read as a vector file ({reason})."),
    "file.no_geometry": ("{file}：没有几何列；数据表需要坐标或图形。",
                         "{file}: has no geometry column; a table needs coordinates or shapes."),
    "upload.too_slow": ("{file}：读取和检查超过了单个文件允许的 {seconds:g} 秒；请拆分文件，或用命令行导入"
                        "（ONEMAP_MAX_SECONDS 可调整时限）。",
                        "{file}: reading and checking it took longer than the {seconds:g} s allowed for one file; "
                        "split it, or load it with the command line (ONEMAP_MAX_SECONDS sets the budget)."),
    "upload.table_size": ("{file}：表格有 {n} {what}，超过单次上传 {limit} 的上限；未解析即已拒绝。请拆分，或用命令行导入。",
                          "{file}: the table has {n} {what}, over the limit of {limit} for one upload; refused "
                          "before it was parsed. Split it, or load it with the command line."),
    "upload.too_big": ("{file}：{mb:.0f} MB，超过单个文件 {limit:g} MB 的上限；请拆分，或用命令行导入。",
                       "{file}: {mb:.0f} MB is over the {limit:g} MB limit for one file; split the delivery or "
                       "load it with the command line."),
    "upload.zip_escape": ("{file}：压缩包成员 {member} 指向压缩包目录之外（不允许 “..” 或绝对路径），未解压任何文件。",
                          "{file}: member '{member}' points outside the archive's folder; a delivery's files must "
                          "sit inside it (no '..', no absolute paths). Nothing was extracted."),
    "upload.zip_link": ("{file}：压缩包成员 {member} 是一个链接；请交付文件本身。未解压任何文件。",
                        "{file}: member '{member}' is a link; deliver the file itself. Nothing was extracted."),
    "upload.zip_damaged": ("{file}：压缩包损坏或不完整（{reason}），可能上传被中断；请重新压缩并上传完整文件。",
                           "{file}: the zip is damaged or incomplete ({reason}); was the upload cut short? Zip the "
                           "files again and send the whole archive."),
    "upload.workbook_damaged": ("{file}：无法作为表格读取：工作簿损坏或不完整（{reason}）；请用 Excel 或 WPS 打开后另存为 .xlsx。",
                                "{file}: cannot be read as a table: the workbook is damaged or incomplete ({reason}); "
                                "open it in Excel or WPS and save it again as .xlsx."),
    "upload.zip_members": ("{file}：包含 {n} 个文件；一次交付最多 {limit} 个。",
                           "{file}: holds {n} files; a delivery may hold at most {limit}."),
    "upload.zip_expands": ("{file}：解压后将达 {mb:,.0f} MB，超过单次上传 {limit:g} MB 的上限（压缩后 {packed:.1f} MB）。"
                           "请拆分，或用命令行导入。",
                           "{file}: would expand to {mb:,.0f} MB, over the {limit:g} MB limit for one upload "
                           "({packed:.1f} MB compressed). Split it, or load it with the command line."),
    "upload.zip_lies": ("{file}：成员 {member} 解压后超过压缩包声明的大小（或超过 {limit:g} MB），已拒绝。",
                        "{file}: member '{member}' expands beyond what the zip declares (or beyond {limit:g} MB); "
                        "refused."),
    "upload.feature_vertices": ("{file}：第 {row} 个要素有 {n:,} 个顶点；单个要素最多 {limit:,} 个。请简化后"
                                "（如 QGIS：矢量 → 几何工具 → 简化）重新上传。",
                                "{file}: feature {row} has {n:,} vertices; a feature may have at most {limit:,}. "
                                "Simplify it (e.g. in QGIS: Vector → Geometry Tools → Simplify) and upload again."),
    "upload.file_vertices": ("{file}：顶点数超过单次上传 {limit:,} 个的上限；请拆分，或用命令行导入。",
                             "{file}: holds more than {limit:,} vertices, the limit for one upload; split it or load "
                             "it with the command line."),
    "upload.geojson_feature": ("{file}：有要素超过 {mb} MB 的 GeoJSON 文本，即超过单个要素 {limit:,} 个顶点的上限。请简化后重新上传。",
                               "{file}: a feature is larger than {mb} MB of GeoJSON text — more than the {limit:,} "
                               "vertices a feature may have. Simplify it and upload again."),
    # problems of one row of an input (layers.errors.Problem.coded)
    "check.not_number": ("不是有效数字（应为{type}）", "not a finite number (expected {type})"),
    "check.not_whole": ("不是整数", "not a whole number"),
    "check.below": ("小于最小值 {minimum:g}", "below the minimum {minimum:g}"),
    "check.above": ("大于最大值 {maximum:g}", "above the maximum {maximum:g}"),
    "check.not_yes_no": ("不是“是/否”；请填 是/否、true/false 或 1/0", "not yes/no; use true/false, 是/否 or 1/0"),
    "check.not_date": ("不是日期；请写成 2026-10-01 这样的格式", "not a date; write e.g. 2026-10-01"),
    "check.not_datetime": ("不是日期时间", "not a date and time"),
    "check.not_choice": ("不是可选值之一：{choices}", "not one of: {choices}"),
    "check.required": ("必填，但为空", "required but empty"),
    "check.no_geometry": ("没有几何（空值或空几何）", "no geometry (null or empty)"),
    "check.geometry_type": ("几何类型不对；图层 {layer} 只接受 {types}", "wrong geometry type; layer '{layer}' takes {types}"),
    "check.non_finite": ("坐标含 NaN 或无穷大", "coordinates contain NaN or infinity"),
    "check.out_of_range": ("转换到 EPSG:4326 后坐标超出经度 -180..180 / 纬度 -90..90；坐标系是否选对？",
                           "coordinates outside longitude -180..180 / latitude -90..90 after conversion to EPSG:4326; "
                           "is the CRS right?"),
    "check.invalid_geometry": ("几何无效：{reason}", "invalid geometry: {reason}"),
    "check.no_crs": ("数据没有声明坐标系；请选择它的坐标系（EPSG:4326、EPSG:4490、高斯-克吕格分带、GCJ-02 等）",
                     "the data declare no coordinate system; say which one it is (EPSG:4326, EPSG:4490, a "
                     "Gauss–Krüger zone, GCJ-02 …)"),
    "check.not_department": ("不是部门代码；请使用 {departments}", "not a department; use one of {departments}"),
    "check.duplicate_id": ("编号重复；每个要素需要唯一编号", "duplicate id; every feature needs its own"),
    "check.duplicate_key": ("编号重复；文件中每个编号只能出现一次", "duplicate key; each key may appear once in a file"),
    "check.before_first_day": ("结束日期早于开始日期 {first}", "ends before its first day {first}"),
    "check.empty_coordinate": ("坐标为空", "empty coordinate"),
    "check.not_degrees": ("不是数字（应为十进制度）", "not a number (decimal degrees expected)"),
    "check.venue_name_ambiguous": ("已存场馆中有 {n} 个同名（{ids}）；请改填场馆编号",
                                   "{n} stored venues have this name ({ids}); give the venue id instead"),
    "check.venue_name_unknown": ("没有已存场馆叫这个名字；请填写场馆编号（要素编号）",
                                 "no stored venue has this name; give its venue id (要素编号)"),
    "check.venue_id_unknown": ("不是任何已存场馆的编号", "not the id of any stored venue"),
    "check.future": ("日期在未来（晚于 {today}）；使用记录应在发生后填报",
                     "in the future (after {today}); usage is counted after it happens"),
    "check.usage_implausible": ("场馆 {venue} 一天 {per_day} 人次，超过它一天最多可能接待的 {ceiling} 人次（容量×开放时长÷半小时，"
                                "且不超过全区常住人口的 5%）；请核对计数，或先更正场馆的容量和开放时间",
                                "{per_day} visits a day at venue {venue} is more than it can have taken ({ceiling}: "
                                "capacity × open hours ÷ half an hour, and at most 5 % of all residents); check the "
                                "count, or correct the venue's capacity and hours first"),
    "check.not_period": ("不是调查期；请写 2026、2026Q3、2026H2 或 2026-09", "not a period; write 2026, 2026Q3, 2026H2 or 2026-09"),
    "check.unit_unknown": ("不是任何已存边界单元的代码", "not the code of any stored boundary unit"),
    "check.second_count": ("场馆 {venue} 在该日/周已有一条{measure}计数；每个场馆、时段和指标只填一行",
                           "a second {measure} count for venue {venue} on this day/week; give one row per venue, "
                           "period and measure"),
    "hours.unreadable": ("开放时间“{text}”无法识别；请写成“周一至周五 18:00-21:00；周末 8:00-20:00”"
                         "或 OSM 格式“Mo-Fr 18:00-21:00; Sa,Su 08:00-20:00”",
                         "{detail}"),
    # what an import assumed, repaired or doubts
    "import.crs_guessed": ("{file}：未声明坐标系；其坐标是中国范围内的经纬度，按 WGS-84 读取。若来自高德或腾讯请选择 GCJ-02，来自百度请选择 BD-09。",
                           "{file}: declares no coordinate system; its coordinates are longitude/latitude degrees in "
                           "China, so they are read as WGS-84. If they come from AMap or Tencent choose GCJ-02, from "
                           "Baidu BD-09."),
    "import.geojson_projected": ("{file}：声明为 WGS-84（GeoJSON 都如此），但坐标是投影米制坐标，已按您选择的 {crs} 读取。",
                                 "{file}: declares WGS-84 (as every GeoJSON does) but its coordinates are projected "
                                 "metres, so they are read as {crs} as you said."),
    "import.geojson_degrees": ("{file}：坐标确为 GeoJSON 声明的经纬度，因此未采用您选择的坐标系（{crs}）。",
                               "{file}: its coordinates are longitude/latitude degrees as GeoJSON declares, so the "
                               "system you named ({crs}) was not applied."),
    "import.swapped": ("{file}：{share:.0%} 的坐标像是经纬度颠倒（纬度在经度列）；请交换两列或指明哪列是经度。",
                       "{file}: {share:.0%} of the coordinates look swapped (latitude in the longitude column); swap "
                       "the columns or say which is which."),
    "import.outside_china": ("{file}：{share:.0%} 的要素在中国范围以外，但文件声明为中国的坐标系；请检查坐标系。",
                             "{file}: {share:.0%} of the features lie outside China although the file is said to "
                             "be in a Chinese coordinate system; check the coordinate system."),
    "import.repaired": ("{file}：修复了 {n} 个自相交的面（在边界交叉处拆分），行号：{rows}。",
                        "{file}: {n} self-intersecting polygon(s) repaired (split where the outline crosses itself), "
                        "row(s) {rows}."),
    "basemap.tianditu_key": ("天地图底图需要密钥（tk），请在天地图控制台申请。",
                             "The Tianditu basemap needs a key (天地图 tk); get one at the Tianditu console."),
    "basemap.xyz_url": ("瓦片地址需要包含 {{z}}、{{x}} 和 {{y}}：{url}", "A tile URL needs {{z}}, {{x}} and {{y}}: '{url}'"),
    "basemap.unknown": ("底图 {kind} 不是 {kinds} 之一。", "Basemap '{kind}' is not one of {kinds}."),
    "nearby.not_pair": ("“{text}”不是一对坐标；请输入十进制度的经度、纬度，例如 104.065, 30.657。",
                        "'{text}' is not a coordinate pair; type longitude, latitude as decimal degrees, e.g. "
                        "104.065, 30.657."),
    "nearby.out_of_range": ("“{text}”：经度应在 ±180 度以内，纬度在 ±90 度以内。",
                            "'{text}': longitude must be within ±180 and latitude within ±90 degrees."),
    # the solver's answer
    "plan.stopped": ("求解在 {limit:g} 秒时停止：结果可行，但未证明最优（与界相差 {gap:.2%}）。",
                     "Stopped by {reason} after {limit:g} s: the answer is feasible, not proven optimal "
                     "(gap {gap:.2%} to the bound)."),
    "plan.stopped_no_bound": ("求解在 {limit:g} 秒时停止：结果可行，但尚无最优性界。",
                              "Stopped by {reason} after {limit:g} s: the answer is feasible; no bound yet."),
    "plan.highs_no_answer": ("精确求解（HiGHS）在 {limit:g} 秒内没有得到结果，显示的是启发式结果。",
                             "HiGHS found no answer within {limit:g} s ({reason}); this is the heuristic's answer."),
    "plan.few_sites": ("只有 {n} 处场地能增加覆盖，其余候选点覆盖不到尚未覆盖的居民。",
                       "Only {n} site(s) add coverage; the other candidates reach nobody not covered already."),
    "plan.target_met": ("现有设施已达到目标覆盖率，无需新增场地。",
                        "Existing facilities already reach the target; no new site is needed."),
    "plan.covered": ("{sites} 处新场地新增覆盖 {added:,.0f} 人，步行 {cutoff:g} 米覆盖率 {before:.1%} → {after:.1%}。",
                     "{sites} new site(s) bring {added:,.0f} more residents within a {cutoff:g} m walk: coverage "
                     "{before:.1%} → {after:.1%}."),
    "plan.mean_walk": ("居民到最近设施的平均步行距离 {walk:,.0f} 米（超过 {cutoff:g} 米按 {cutoff:g} 米计）。",
                       "Residents' mean walk to the nearest facility: {walk:,.0f} m (walks beyond {cutoff:g} m "
                       "count as {cutoff:g} m)."),
    "plan.served": ("按场地容量可服务 {served:,.0f} 名目前未覆盖的居民。",
                    "Within their capacities the sites serve {served:,.0f} residents not covered today."),
    "plan.optimal": ("已证明最优（用时 {seconds:.1f} 秒）。", "Proven optimal ({seconds:.1f} s)."),
    "plan.gap": ("可行方案，距最优最多相差 {gap:.2%}（用时 {seconds:.1f} 秒）。",
                 "A feasible plan, at most {gap:.2%} from the best possible ({seconds:.1f} s)."),
    "plan.no_bound": ("可行方案，最优性未知（用时 {seconds:.1f} 秒）。",
                      "A feasible plan; how far from the best is not known ({seconds:.1f} s)."),
    # what an analysis assumed or left out
    "demand.from_land_use_density": ("人口按 {areas} 块居住用地的面积估算（每平方公里 {density:,.0f} 人）。",
                                     "Residents estimated from {areas} residential areas "
                                     "({density:,.0f} residents per km²)."),
    "demand.from_land_use_total": ("人口按 {areas} 块居住用地的面积分摊全区 {total:,.0f} 人估算。",
                                   "Residents estimated by sharing the district's {total:,.0f} among "
                                   "{areas} residential areas by their area."),
    "coverage.estimate": ("人口为估算值（{source}），所有人数均为估算。",
                          "Population is an estimate ({source}); every count is estimated."),
    "coverage.no_network": ("未载入步行路网：距离按直线计算，会高估步行可达的居民数。",
                            "No walking network is loaded: distances are straight-line, which overstates how "
                            "many residents are within a walk."),
    "coverage.off_street_residents": ("{residents:,.0f} 名居民（{share:.1%}）距最近可步行道路超过 {snap:g} 米，按步行不可达计。",
                                      "{residents:,.0f} residents ({share:.1%}) live more than {snap:g} m from any "
                                      "walkable street and count as not reached on foot."),
    "coverage.off_network_facilities": ("{n} 处设施距最近可步行道路超过 {snap:g} 米，步行不可达：{names}",
                                        "{n} facilities are more than {snap:g} m from any walkable street and not "
                                        "reachable on foot: {names}"),
    "coverage.layer_empty": ("{layer}没有要素：其覆盖率记为无数据，而不是 0%。",
                             "{layer} has no feature: its coverage is reported as no data, not as 0 %."),
    "coverage.layer_closed": ("{layer}没有向公众开放的设施，不覆盖任何居民。",
                              "{layer}: no facility is open to the public, so it covers nobody."),
    "coverage.layer_closed_at": ("{layer}在{slot}没有开放的设施，不覆盖任何居民。",
                                 "{layer}: no facility is open at {slot}, so it covers nobody."),
    "coverage.slot_unknown_open": ("时段 {slot}：只计该时段开放的设施；未填开放时间的设施按开放计。",
                                   "Time slot {slot}: only facilities open then are counted; facilities without "
                                   "opening hours count as open."),
    "coverage.slot_unknown_closed": ("时段 {slot}：只计该时段开放的设施；未填开放时间的设施按关闭计。",
                                     "Time slot {slot}: only facilities open then are counted; facilities without "
                                     "opening hours count as closed."),
    "facilities.hours_unread": ("{layer}：{n} 行的开放时间无法识别，按未知处理（行号：内容）：{rows}",
                                "{layer}: opening hours not understood in {n} row(s), treated as unknown "
                                "(row: text): {rows}"),
    "facilities.no_geometry": ("{layer}：{n} 个要素没有几何，未参与分析。",
                               "{layer}: {n} feature(s) without geometry left out."),
    "facilities.layer_empty": ("{layer}为空图层，不覆盖任何居民。", "{layer}: the layer is empty; nobody can be "
                               "covered by it."),
    "facilities.entrances_unlinked": ("{n} 个出入口未对应分析中的{layer}要素，未参与分析。",
                                      "{n} entrance(s) name no {layer} feature in the analysis and were left out."),
    "candidates.off_network": ("{n} 个候选点距最近可步行道路超过 200 米，无法覆盖任何居民：{names}",
                               "{n} candidate(s) lie more than 200 m from any walkable street and can cover "
                               "nobody: {names}"),
    "candidates.existing": ("已计入现有设施：{layers}。", "Already placed: {layers}."),
    "candidates.existing_at": ("已计入 {slot} 开放的现有设施：{layers}。",
                               "Already placed: {layers} open at {slot}."),
    "indicators.suppressed": ("{n} 个单元的满意度未公布：受访人数少于 {k}。",
                              "Satisfaction of {n} unit(s) is not published: fewer than {k} respondents."),
    "indicators.school_hours_unknown": ("{n} 处开放的学校设施未填开放时间，开放时长按 0 计。",
                                        "{n} open school facilities have no opening hours and count 0 open hours."),
    "nearby.straight_line": ("未载入步行路网：距离按直线计算，比实际步行距离短。",
                             "No walking network: distances are straight-line, shorter than the real walk."),
    "nearby.off_street": ("{origin} 距最近可步行道路超过 {snap:g} 米。",
                          "{origin} is more than {snap:g} m from any walkable street."),
    "nearby.closed_at": ("步行范围内另有 {n} 处在 {slot} 不开放。", "{n} more within the walk are closed at {slot}."),
    "nearby.closed": ("步行范围内另有 {n} 处不向公众开放。", "{n} more within the walk are not open to the public."),
    "selection.not_polygon": ("所绘图形是“{kind}”，不是多边形；请用多边形或矩形工具圈出一个区域。",
                              "The drawn shape is a {kind}, not a polygon; draw an area with the polygon or "
                              "rectangle tool."),
    "selection.too_many_vertices": ("所绘区域的顶点超过 {most:,} 个；请画得简单些。",
                                    "The drawn area has more than {most:,} vertices; draw a simpler shape."),
    "selection.not_lonlat": ("所绘区域的坐标不是经纬度（经度 −180～180、纬度 −90～90）。",
                             "The drawn area's coordinates are not longitude/latitude (−180 to 180, −90 to 90)."),
    "selection.no_area": ("所绘区域没有面积（各点在一条线上或重合）；请至少点三个不共线的点。",
                          "The drawn area has no area (its points lie on a line or on each other); click at "
                          "least three points not on one line."),
    "units.outside": ("{residents:,.0f} 名居民（{share:.1%}）不在任何{level}边界内，计入“边界外”一行。",
                      "{residents:,.0f} residents ({share:.1%}) lie outside every {level} boundary; they are "
                      "counted in the row “outside”."),
    "units.grid": ("数据中没有行政边界，{level}统计按 {n} 个规则网格单元（约 1 平方公里）计算；导入{level}边界后按实际单元统计。",
                   "The data hold no administrative boundaries: the {level} figures use {n} regular grid units "
                   "(about 1 km² each) until {level} boundaries are imported."),
    "usage.unknown_ids": ("使用记录中有 {n} 个场馆编号不是已存场馆，未计入：{ids}",
                          "{n} venue id(s) in the usage records are not stored venues and were not counted: {ids}"),
    "usage.hours_assumed": ("{n} 个场馆未填开放时间，按每天 {hours:g} 小时计算容量。",
                            "{n} venue(s) have no opening hours; {hours:g} h a day is assumed for their capacity."),
    "usage.no_records": ("{n} 个场馆没有{measure}记录。", "{n} venue(s) have no {measure} records."),
    "emergency.unconfirmed": ("{total} 家医院中有 {n} 家的急诊科尚未确认（如来自 OpenStreetMap 而未标注 emergency=yes）；救护车时间已计入它们并标为“急诊未确认”，请卫健委在数据页确认或排除。",
                              "{n} of {total} hospitals have an emergency department not yet confirmed (e.g. from "
                              "OpenStreetMap without emergency=yes); ambulance times use them, marked “emergency "
                              "unconfirmed”, until the health commission confirms or rules them out on the Data page."),
    "usage.implausible": ("{n} 个场馆的日均人次超过其可能接待的上限（容量×开放时长÷{session:g} 小时，且不超过全区常住人口的 "
                          "{share:.0%}），列为“存疑”，不计利用率：{names}",
                          "{n} venue(s) report more visits a day than they can have taken (capacity × open hours ÷ "
                          "{session:g} h, and at most {share:.0%} of all residents); shown as doubtful, with no "
                          "utilisation: {names}"),
    "usage.no_capacity": ("{n} 个场馆未填容量，无法计算利用率。", "{n} venue(s) have no capacity, so no utilisation."),
    "whatif.site_off_network": ("新增场地 {site} 距最近可步行道路超过 200 米，步行不可达任何居民。",
                                "New site {site} is more than 200 m from any walkable street: it reaches nobody "
                                "on foot."),
    "records.weekly_monday": ("{n} 条周计数按该周周一记日期。", "{n} weekly count(s) are dated by the Monday of "
                              "their week."),
    # bookings
    "health.bad_k": ("最小公开人数 k 的设置 {value} 无效：应为不小于 {minimum} 的整数。",
                     "The smallest count shown, k = {value}, is not valid: a whole number of at least {minimum}."),
    "health.row_level": ("{file}：含有个人层面的列（{columns}）。健康数据只能按社区或街道汇总后导入。",
                         "{file}: holds row-level columns ({columns}). Health data is loaded only as aggregates per "
                         "community or street."),
    "health.no_count": ("计数指标 {indicator} 缺少人数", "count indicator {indicator} has no count"),
    "health.rate_without_denominator": ("比例指标 {indicator} 须同时给出比例和分母人数",
                                        "rate indicator {indicator} needs both the rate and its denominator"),
    "health.below_k": ("人数少于 {k}，为保护隐私不予导入", "fewer than {k} people: not loaded, to protect privacy"),
    "health.derivable_levels": ("与已存数据合计：{unit} 的人数减去其已交付下级单元（{other}）之和只剩 {people} 人，少于 {k} 人即可被推算出来；请连同全部下级单元一并交付，或不交付该上级单元",
                                "with what is stored, {unit}'s count minus its delivered parts ({other}) leaves {people} "
                                "people, fewer than {k}, which anyone could work out; deliver all its parts with it, "
                                "or leave the larger unit out"),
    "health.derivable_periods": ("与已存数据合计：{unit} 的累计指标 {period} 减去 {other} 只有 {people} 人，少于 {k} 人即可被推算出来；请合并统计期后交付",
                                 "with what is stored, {unit}'s year-to-date {period} minus {other} is {people} people, "
                                 "fewer than {k}, which anyone could work out; deliver a longer period instead"),
    "health.derivable_subgroup": ("{unit} 的总数减去其中的一部分（{part}）只有 {people} 人，少于 {k} 人即可被推算出来；请合并后交付",
                                  "{unit}'s total minus its part ({part}) is {people} people, fewer than {k}, which "
                                  "anyone could work out; deliver them merged"),
    "need.published": ("以上为估算：人数取整到 {base} 人，比例取整到 1%；卫健委交付的实际人数不在任何输出中显示。",
                       "These are estimates: people rounded to the nearest {base}, shares to whole percent; the "
                       "health commission's delivered counts appear in no output."),
    "health.store_below_k": ("拒绝写入：健康指标中有少于 {k} 人的单元格。",
                             "Refused: a health indicator cell counts fewer than {k} people."),
    "sync.unreachable": ("{url}：没有 OGC API – Features 服务应答（{reason}）。请检查地址（到 /collections 之前为止）以及本服务器能否访问它。",
                         "{url}: no OGC API – Features service answered ({reason}). Check the address (it ends "
                         "where /collections begins) and that this server can reach it."),
    "sync.not_allowed": ("{url} 不在允许拉取的合作服务之列（ONEMAP_SYNC_ALLOWED：{allowed}）。请由系统管理员将其加入，写作 http(s)://主机[:端口]。",
                         "{url} is not one of the partner services this server may pull from (ONEMAP_SYNC_ALLOWED: "
                         "{allowed}). Ask the administrator to list it, written as http(s)://host[:port]."),
    "sync.private_address": ("{url} 解析到内部地址 {address}；只有直接列为该地址的服务才可拉取。",
                             "{url} resolves to the internal address {address}; only a service listed as that very "
                             "address may be pulled from."),
    "sync.redirect": ("{url} 将请求转向 {target}，不在允许之列，未跟随。",
                      "{url} redirected to {target}, which is not listed; the redirect was not followed."),
    "sync.not_json": ("{url} 的应答不是 JSON。", "{url} did not answer JSON."),
    "sync.page_too_big": ("{url} 的一次应答超过 {mb} MB（ONEMAP_SYNC_MAX_MB），未读完即停止。",
                          "{url}: an answer larger than {mb} MB (ONEMAP_SYNC_MAX_MB) was cut off unread."),
    "sync.deadline": ("从 {url} 拉取超过 {seconds} 秒（ONEMAP_SYNC_MAX_SECONDS），已停止，未写入任何数据。",
                      "Pulling from {url} took longer than {seconds} s (ONEMAP_SYNC_MAX_SECONDS); stopped, nothing "
                      "was stored."),
    "sync.no_collection": ("{url} 没有数据集 {collection}；它提供：{names}。",
                           "{url} has no collection {collection}; it has {names}."),
    "sync.page_failed": ("{url} 的 {collection}：从第 {n} 个要素起读取失败（{reason}），未写入任何数据。",
                         "{url}, {collection}: reading from feature {n} failed ({reason}); nothing was stored."),
    "sync.not_features": ("{url} 的 {collection}/items 返回的不是 GeoJSON 要素集合。",
                          "{url}, {collection}/items did not answer a GeoJSON FeatureCollection."),
    "sync.too_many": ("{url} 的 {collection} 超过 {limit} 个要素；拉取与表格上传的上限相同（ONEMAP_MAX_TABLE_ROWS）。",
                      "{url}, {collection}: more than {limit} features; a pull takes at most as many as a table "
                      "upload (ONEMAP_MAX_TABLE_ROWS)."),
    "sync.too_big": ("{url} 的 {collection} 超过 {mb} MB（ONEMAP_SYNC_MAX_MB），未写入任何数据。",
                     "{url}, {collection}: more than {mb} MB of features (ONEMAP_SYNC_MAX_MB); nothing was stored."),
    "need.estimate": ("“{group}”按各单元汇总人数、依常住人口比例分配到格网，为估算值。",
                      "“{group}” is an estimate: each unit's aggregate count spread over its cells by population."),
    "need.unplaced": ("{n} 个单元有人数但格网中没有常住人口，未能分配：{units}",
                      "{n} unit(s) have a count but no resident in the grid, so it could not be placed: {units}"),
    "need.no_units": ("“{group}”的单元代码与边界图层不对应。", "The unit codes of {group} match no stored boundary."),
    "need.file_format": ("{file}：重点人群表可导出为 {formats}。", "{file}: a need table is written as {formats}."),
    "need.nothing_to_export": ("没有可导出的重点人群：请先导入卫健委汇总指标和边界图层。",
                               "No need group to export: load the health commission's aggregates and the boundaries "
                               "first."),
    "need.unknown_units": ("{n} 个单元代码不在边界图层中：{units}", "{n} unit code(s) are not in the boundaries: {units}"),
    "incident.place_layer": ("应急事件只能记录在{layers}，不能记录在 {layer}。", "Incidents are recorded at {layers}; not at {layer!r}."),
    "incident.kind": ("事件类型 {kind} 不在可选范围（{kinds}）内。", "Incident kind {kind!r} is not one of {kinds}."),
    "incident.time_format": ("发生时间 {text} 无法识别，请写成 2026-12-02 19:30 这样的当地时间。",
                             "Incident time {text!r} is not a local time like 2026-12-02 19:30."),
    "incident.future": ("发生时间 {time} 晚于现在。", "Incident time {time} is in the future."),
    "incident.too_old": ("发生时间 {time} 已超过 {days} 天；这里只记录近期事件。",
                         "Incident time {time} is more than {days} days ago; record recent incidents here."),
    "incident.where_long": ("场内位置最多 {limit} 个字（如球场、看台、泳道），现为 {n} 个字。",
                            "Where in the place: at most {limit} characters (a court, a stand, a lane), not {n}."),
    "incident.personal": ("场内位置不得包含手机号或身份证号等个人信息。",
                          "Where in the place must not hold a phone or ID number: no personal data is recorded."),
    "incident.no_place": ("没有已入库的{layer}要素 {place}。", "No {layer} feature {place!r} is stored."),
    "report.due_setting": ("ONEMAP_REPORT_DUE_HOURS 中的 {part} 无法识别：写成 类别=小时数，类别为 {categories}。",
                           "{part!r} in ONEMAP_REPORT_DUE_HOURS: write category=hours, the categories being "
                           "{categories}."),
    "report.route_setting": ("ONEMAP_REPORT_ROUTES 中的 {part} 无法识别：写成 类型[@区划代码]=部门，类型为 {kinds}，"
                             "部门为 {departments}。",
                             "{part!r} in ONEMAP_REPORT_ROUTES: write kind[@area code]=department, the kinds being "
                             "{kinds} and the departments {departments}."),
    "report.kind": ("反馈对象 {kind} 不在可选范围（{kinds}）内。", "Place kind {kind!r} is not one of {kinds}."),
    "report.layer": ("问题反馈只能针对{layers}，不能针对 {layer}。", "Reports are on {layers}; not on {layer!r}."),
    "report.no_feature": ("没有已入库的{layer}要素 {feature}。", "No {layer} feature {feature!r} is stored."),
    "report.point": ("位置 {lon}, {lat} 不是经纬度（经度 -180 至 180，纬度 -90 至 90）。",
                     "Place {lon}, {lat} is not a longitude and latitude (-180 to 180, -90 to 90)."),
    "report.category": ("问题类别 {category} 不在可选范围（{categories}）内。",
                        "Category {category!r} is not one of {categories}."),
    "report.body_long": ("描述最多 {limit} 个字，现为 {n} 个字。", "The text holds at most {limit} characters, not {n}."),
    "report.personal": ("描述中不得包含手机号或身份证号等个人信息。",
                        "The text must not hold a phone or ID number: no personal data is kept with a report."),
    "report.action": ("操作 {step} 不在可选范围（{steps}）内。", "Action {step!r} is not one of {steps}."),
    "report.unknown": ("没有编号为 {report} 的问题反馈。", "No report has the code {report!r}."),
    "report.not_yours": ("问题反馈 {report} 由{department}办理，只有该部门的编辑人员或管理员可以处理。",
                         "Report {report} is held by the {department}; only its editors or an administrator act on it."),
    "report.reason_needed": ("“{step}”须填写理由。", "“{step}” needs a reason."),
    "report.reassign_to": ("不能转交给 {department}：请选择 {departments} 之一。",
                           "Cannot hand over to {department!r}: choose one of {departments}."),
    "report.wrong_status": ("问题反馈 {report} 当前为“{state}”，不能“{step}”（可能已被他人处理）。",
                            "Report {report} is {state} now; the step “{step}” cannot be taken (someone may have "
                            "acted first)."),
    "report.not_data_wrong": ("问题反馈 {report} 不是针对某一要素的“信息有误”反馈，不能据此修改数据。",
                              "Report {report} is not a data-wrong report on a feature; no feature is opened by it."),
    "report.accept_first": ("问题反馈 {report} 当前为“{state}”：受理后才能据此修改要素。",
                            "Report {report} is {state}: accept it before correcting its feature."),
    "report.edit_field": ("字段 {field} 不能在此修改；可修改的字段：{fields}。",
                          "Field {field!r} cannot be changed here; the layer's fields are {fields}."),
    "photo.too_big": ("照片 {name} 为 {mb} MB，超过上限 {limit} MB（ONEMAP_MAX_PHOTO_MB）。",
                      "Photo {name}: {mb} MB, more than the {limit} MB allowed (ONEMAP_MAX_PHOTO_MB)."),
    "photo.format": ("{name} 是 {found} 格式；照片须为 {formats}。", "{name} is {found}; a photo is {formats}."),
    "photo.pixels": ("照片 {name} 有 {mp} 百万像素，超过上限 {limit}（ONEMAP_MAX_PHOTO_MEGAPIXELS）。",
                     "Photo {name} declares {mp} megapixels, more than {limit} (ONEMAP_MAX_PHOTO_MEGAPIXELS)."),
    "photo.not_image": ("{name} 不是图片；照片须为 {formats}。", "{name} is not an image; a photo is {formats}."),
    "photo.broken": ("照片 {name} 已损坏，无法读取。", "Photo {name} is damaged and cannot be read."),
    "photo.too_many": ("每条反馈最多 {limit} 张照片，现为 {n} 张。", "At most {limit} photos per report, not {n}."),
    "report.period": ("报告期 {period} 无法识别：写成 2026-10（月）或 2026Q3（季度）。",
                      "Period {period!r}: write 2026-10 (a month) or 2026Q3 (a quarter)."),
    "report.period_future": ("报告期 {period} 尚未结束：请选定本期内已过去的某一时点，按该时点的数据生成。",
                             "Period {period} has not ended yet: choose a moment within it that has passed, and the "
                             "figures are read as they stood then."),
    "emergency.no_place": ("该图层中没有场所 {place}。", "No place {place!r} in this layer."),
    "emergency.event_times": ("活动须在同一天内先开始后结束，而不是 {start} → {end}。",
                              "An event runs from its start to a later end the same day, not {start} → {end}."),
    "emergency.out_of_reach": ("{n} 处场馆附近没有任何候选位置（或不在步行路网上），未计入目标：{venues}",
                               "{n} venue(s) have no candidate place within reach (or are off the walking network) "
                               "and are left out of the target: {venues}"),
    "emergency.no_drive": ("未能由道路图层建立行车路网（{reason}），救护车时间从略。",
                           "No drive network from the road layer ({reason}); ambulance times are left out."),
    "booking.bad_phone": ("手机号码应为 11 位中国大陆手机号（如 13812345678）", "The phone must be an 11-digit mainland mobile number (like 13812345678)"),
    "booking.contact_key": ("无法解密联系电话：服务器密钥已更换", "Cannot decrypt the contact phone: the server's key has changed"),
    "booking.no_resource": ("没有可预约资源 {resource}（已有：{known}）", "No bookable resource {resource} (there are: {known})"),
    "booking.no_slot": ("{resource} 在 {start} 没有可预约时段（不开放、停用或不在课期内）", "{resource} has no slot at {start} (closed, a closed day, or outside the course's term)"),
    "booking.past": ("时段 {start} 已经开始或已过去", "The slot at {start} has started or is past"),
    "booking.too_far": ("{start} 超出可预约范围：最多提前 {days} 天", "{start} is too far ahead: bookings open {days} days ahead"),
    "booking.area_only": ("仅限区域 {area} 的居民预约", "Only residents of area {area} may book this"),
    "booking.group_only": ("仅限已登记团体通过合作单位预约", "Only registered groups may book this, through a partner system"),
    "booking.cannot_check_in": ("预约 {booking} 无法签到：不存在、不属于本部门或状态不是已预约", "Booking {booking} cannot be checked in: unknown, another department's, or not booked"),
    "booking.bad_time": ("时间 {value} 无法识别；请写成 2026-12-05T18:00", "Time {value} is not understood; write it like 2026-12-05T18:00"),
    "booking.bad_retention": ("保留天数不能为负数：{days}", "The retention period cannot be negative: {days}"),
    "booking.full": ("该时段已约满", "This slot is full"),
    "booking.limit": ("已达到每人有效预约上限", "You hold as many active bookings as allowed"),
    "booking.already": ("您已预约该时段", "You already hold a place in this slot"),
    "booking.booked": ("预约成功", "Booked"),
    "booking.waitlisted": ("已进入候补名单；有人取消时自动递补", "On the waiting list; you move up when someone cancels"),
    "records.not_yours": ("{kind} 记录只能由场所或资源所属部门登记：{places} 不属于 {department}。",
                          "{kind} rows are recorded by the department that owns the place or resource: {places} "
                          "is not {department}'s."),
    "booking.key_reused": ("该 Idempotency-Key 已用于另一项请求；每个新请求须使用新的键，重试时请求内容须与首次一致",
                           "This Idempotency-Key was used for another request; send a new key with each new request, "
                           "and a retry with the same body as the first"),
    "booking.repeat": ("该请求已处理过，返回首次预约结果", "This request was handled before; here is the first booking"),
    "booking.cancelled": ("预约已取消", "Booking cancelled"),
    "booking.not_found": ("没有该预约编号", "No booking with this number"),
    "booking.wrong_code": ("取消码不正确", "The cancel code is not right"),
    "booking.not_active": ("该预约已取消、已签到或已结束", "This booking is already cancelled, checked in or over"),
    "booking.too_late": ("已过取消截止时间", "The cancellation deadline has passed"),
}


#: Names listed in a note before it says "…".
LISTED = 10


def format_value(key: str, value: Any, lang: str = "zh") -> Any:
    """A note's value ready for its template: slots, layers, nested notes and lists in ``lang``.

    Numbers are left as they are, for the template's format (``{residents:,.0f}``).
    """
    from i18n.values import slot_text, value_label

    if hasattr(value, "code") and hasattr(value, "values"):
        return render_note(value, lang)
    if hasattr(value, "weekday") and hasattr(value, "minute"):
        return slot_text(value, lang)
    if isinstance(value, (list, tuple)):
        field = {"layers": "layer", "categories": "category", "kinds": "point_kind", "departments": "department",
                 "steps": "step"}.get(key, key)
        items = [str(format_value(field, v, lang)) for v in value[:LISTED]]
        more = " …" if len(value) > LISTED else ""
        return ("、" if lang != "en" else ", ").join(items) + more
    if key in ("layer", "department", "group", "category") and isinstance(value, str):
        return value_label(key, value, lang)
    if key == "part" and isinstance(value, str):  # a subgroup taken from its total: an indicator, or a rate's
        return ("numerator" if lang == "en" else "分子") if value == "numerator" else value_label("indicator", value,
                                                                                              lang)
    if key in ("state", "step", "point_kind") and isinstance(value, str):  # a field report's status, step, place
        text = value_label({"state": "report_status", "step": "report_action"}.get(key, key), value, lang)
        return text.lower() if lang == "en" and key != "point_kind" else text
    if key == "what" and isinstance(value, str):
        return value_label("table_part", value, lang)
    if key in ("level", "measure", "site_kind") and isinstance(value, str):
        text = value_label(key, value, lang)
        return text.lower() if lang == "en" else text  # inside a sentence
    return value


def render_note(note: Any, lang: str = "zh") -> str:
    """A note in ``lang`` ("zh" or "en"), its values filled in."""
    pair = NOTES.get(note.code)
    values = {k: format_value(k, v, lang) for k, v in dict(note.values).items()}
    if pair is None:
        return f"{note.code}: " + ", ".join(f"{k}={v}" for k, v in values.items())
    template = pair[1] if lang == "en" else pair[0]
    try:
        return template.format(**values)
    except (KeyError, ValueError, IndexError):
        return f"{template} ({', '.join(f'{k}={v}' for k, v in values.items())})"


__all__ = ["NOTES", "LISTED", "format_value", "render_note"]
