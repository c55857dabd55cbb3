"""Web maps: folium maps of the stored layers, drawn with local assets, published or written offline."""
