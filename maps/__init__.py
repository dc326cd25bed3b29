"""Map builders for geogrid (folium pages and standalone HTML) and their vendored browser libraries."""
