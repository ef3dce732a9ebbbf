# ruff: noqa: E501, RUF001 -- prose and HTML content: typographic dashes, long table rows
"""The example site's content: Larkspur Coffee Roasters, a fictional roastery in Port Alder.

Original sample content written for kontent-ssg. ``build_snapshot.py`` turns it into a
Delivery API snapshot. Each item has one entry per translated language under ``variants``;
a language missing there is served as a fallback variant (``FALLBACKS``), exactly like the
Delivery API does. Rich-text shorthand is documented in ``build_snapshot.py``.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

DEFAULT_LANGUAGE = "en-US"
LANGUAGES = {"en-US": "English (United States)", "es-ES": "Spanish (Spain)"}
FALLBACKS = {"es-ES": "en-US"}
TIMEZONE = "Europe/London"

# For tests of broken-link reporting only (`build_snapshot.py --broken-link`): a paragraph
# linking to an item that is not published, appended to one rich-text element. The example
# site itself has no broken links, so `make demo` and `build --strict` stay warning-free.
UNPUBLISHED_ITEMS = {"discontinued_grinder_review": "9d3f4c1a-7e2b-4f60-8a51-3c6e2b7d9f04"}
BROKEN_LINK = {
    "item": "storing_coffee_beans",
    "language": "en-US",
    "element": "body",
    "markup": "<p>Still grinding with our old hand grinder? "
    '<a item="discontinued_grinder_review">Our review of it</a> has been retired.</p>',
}


def C(type_codename: str, **values: Any) -> JSON:
    """A component of ``type_codename`` with element values."""
    return {"type": type_codename, "values": values}


# --------------------------------------------------------------------------------------
# Content types
# --------------------------------------------------------------------------------------


def el(kind: str, name: str, **extra: Any) -> JSON:
    return {"type": kind, "name": name, **extra}


TAGS = {
    "guide": "Guide",
    "recipe": "Recipe",
    "story": "Story",
    "news": "News",
    "science": "Science",
}

TYPES: dict[str, JSON] = {
    "home": {
        "name": "Home",
        "last_modified": "2025-04-02T09:00:00.000Z",
        "elements": {
            "title": el("text", "Title"),
            "headline": el("text", "Headline"),
            "intro": el("rich_text", "Intro"),
            "hero_image": el("asset", "Hero image"),
            "featured_cafes": el("modular_content", "Featured cafés"),
            "newsletter_note": el("text", "Newsletter note"),
        },
    },
    "article": {
        "name": "Article",
        "last_modified": "2025-04-02T09:05:00.000Z",
        "elements": {
            "title": el("text", "Title"),
            "url": el("url_slug", "URL"),
            "summary": el("text", "Summary"),
            "publish_date": el("date_time", "Publish date"),
            "hero_image": el("asset", "Hero image"),
            "body": el("rich_text", "Body"),
            "author": el("modular_content", "Author"),
            "topics": el("taxonomy", "Topics", group="topics"),
            "tags": el("multiple_choice", "Tags", options=TAGS),
            "reading_time": el("number", "Reading time (minutes)"),
            "related_articles": el("modular_content", "Related articles"),
            "accent_color": el("custom", "Accent colour"),
        },
    },
    "author": {
        "name": "Author",
        "last_modified": "2025-04-02T09:10:00.000Z",
        "elements": {
            "name": el("text", "Name"),
            "role": el("text", "Role"),
            "photo": el("asset", "Photo"),
            "bio": el("rich_text", "Bio"),
            "favourite_brew": el("text", "Favourite brew"),
        },
    },
    "cafe": {
        "name": "Café",
        "last_modified": "2025-04-02T09:15:00.000Z",
        "elements": {
            "name": el("text", "Name"),
            "url": el("url_slug", "URL"),
            "street": el("text", "Street address"),
            "city": el("text", "City"),
            "postal_code": el("text", "Postal code"),
            "phone": el("text", "Phone"),
            "opening_hours": el("rich_text", "Opening hours"),
            "description": el("rich_text", "Description"),
            "photo": el("asset", "Photo"),
            "seats": el("number", "Seats"),
            "amenities": el(
                "multiple_choice",
                "Amenities",
                options={
                    "wifi": "Wi-Fi",
                    "outdoor_seating": "Outdoor seating",
                    "roastery_on_site": "Roastery on site",
                    "step_free_access": "Step-free access",
                    "dogs_welcome": "Dogs welcome",
                },
            ),
            "opened": el("date_time", "Opened"),
        },
    },
    "callout": {
        "name": "Callout",
        "last_modified": "2025-04-02T09:20:00.000Z",
        "elements": {
            "tone": el(
                "multiple_choice",
                "Tone",
                options={"tip": "Tip", "note": "Note", "warning": "Warning"},
            ),
            "title": el("text", "Title"),
            "content": el("rich_text", "Content"),
        },
    },
    "quote": {
        "name": "Quote",
        "last_modified": "2025-04-02T09:25:00.000Z",
        "elements": {
            "text": el("text", "Quote"),
            "attribution": el("text", "Attribution"),
            "role": el("text", "Role"),
        },
    },
    "code_sample": {
        "name": "Code sample",
        "last_modified": "2025-04-02T09:30:00.000Z",
        "elements": {
            "language": el(
                "multiple_choice",
                "Language",
                options={"python": "Python", "shell": "Shell", "text": "Plain text"},
            ),
            "caption": el("text", "Caption"),
            "code": el("text", "Code"),
        },
    },
    "video_embed": {
        "name": "Video embed",
        "last_modified": "2025-04-02T09:35:00.000Z",
        "elements": {
            "title": el("text", "Title"),
            "video_url": el("text", "Video URL"),
            "provider": el(
                "multiple_choice",
                "Provider",
                options={"hosted": "Hosted", "youtube": "YouTube", "vimeo": "Vimeo"},
            ),
            "poster": el("asset", "Poster image"),
            "duration": el("number", "Duration (seconds)"),
            "caption": el("text", "Caption"),
        },
    },
    "gallery": {
        "name": "Gallery",
        "last_modified": "2025-04-02T09:40:00.000Z",
        "elements": {
            "title": el("text", "Title"),
            "images": el("asset", "Images"),
            "caption": el("text", "Caption"),
        },
    },
}

# --------------------------------------------------------------------------------------
# Taxonomy
# --------------------------------------------------------------------------------------

TAXONOMIES: dict[str, JSON] = {
    "topics": {
        "name": "Topics",
        "last_modified": "2025-04-02T08:30:00.000Z",
        "terms": [
            (
                "brewing",
                "Brewing",
                [
                    ("espresso", "Espresso", []),
                    ("filter", "Filter", []),
                    ("cold_brew", "Cold brew", []),
                ],
            ),
            (
                "origins",
                "Origins",
                [
                    ("ethiopia", "Ethiopia", []),
                    ("colombia", "Colombia", []),
                    ("guatemala", "Guatemala", []),
                ],
            ),
            ("roasting", "Roasting", []),
            ("cafe_life", "Café life", []),
        ],
    }
}

# --------------------------------------------------------------------------------------
# Assets (drawn by artwork.py; served from example-site/static/images/)
# --------------------------------------------------------------------------------------


def img(
    file: str,
    motif: str,
    palette: str,
    en: str,
    es: str,
    *,
    width: int = 1600,
    height: int = 900,
    seed: int = 0,
    label: str = "",
) -> JSON:
    return {
        "file": file,
        "motif": motif,
        "palette": palette,
        "width": width,
        "height": height,
        "seed": seed,
        "label": label or en,
        "description": {"en-US": en, "es-ES": es},
    }


ASSETS: dict[str, JSON] = {
    "home_hero": img(
        "home-hero.svg",
        "drum",
        "dusk",
        "The drum roaster at Old Market, warming up before the first batch",
        "El tostador de tambor de Old Market, calentándose antes del primer lote",
        width=1800,
        height=900,
    ),
    # article heroes
    "hero_pour_over": img(
        "hero-pour-over.svg",
        "kettle",
        "crema",
        "A gooseneck kettle pouring over a paper filter",
        "Un hervidor de cuello de cisne vertiendo sobre un filtro de papel",
    ),
    "hero_roast_levels": img(
        "hero-roast-levels.svg",
        "chart",
        "cocoa",
        "Coffee beans from light to dark roast, lined up in a row",
        "Granos de café del tueste claro al oscuro, en fila",
    ),
    "hero_sidama": img(
        "hero-sidama.svg",
        "hills",
        "sage",
        "Terraced hills of coffee shrubs in Sidama at dawn",
        "Colinas en terrazas con cafetos en Sidama al amanecer",
    ),
    "hero_espresso": img(
        "hero-espresso.svg",
        "cup",
        "ember",
        "A freshly pulled espresso with a thick layer of crema",
        "Un espresso recién extraído con una gruesa capa de crema",
    ),
    "hero_cold_brew": img(
        "hero-cold-brew.svg",
        "jar",
        "harbour",
        "A glass jar of cold brew steeping with ice",
        "Un tarro de vidrio con cold brew reposando con hielo",
    ),
    "hero_roastery_morning": img(
        "hero-roastery-morning.svg",
        "drum",
        "night",
        seed=2,
        label="The roaster at six in the morning",
        en="The roaster at six in the morning, before the doors open",
        es="El tostador a las seis de la mañana, antes de abrir",
    ),
    "hero_water": img(
        "hero-water.svg",
        "waves",
        "harbour",
        "Ripples on water, with a single drop falling",
        "Ondas en el agua y una gota cayendo",
    ),
    "hero_decaf": img(
        "hero-decaf.svg",
        "beans",
        "blossom",
        seed=3,
        en="Green and roasted decaf beans scattered on a table",
        es="Granos descafeinados verdes y tostados sobre una mesa",
    ),
    "hero_waterfront": img(
        "hero-waterfront.svg",
        "storefront",
        "harbour",
        "The new Waterfront café with its striped awning",
        "El nuevo café Waterfront con su toldo de rayas",
    ),
    "hero_storage": img(
        "hero-storage.svg",
        "beans",
        "crema",
        seed=5,
        en="Roasted beans spilling from an open bag",
        es="Granos tostados saliendo de una bolsa abierta",
    ),
    "hero_guatemala": img(
        "hero-guatemala.svg",
        "hills",
        "ember",
        seed=7,
        en="Volcanic slopes above the coffee farms of Huehuetenango",
        es="Laderas volcánicas sobre las fincas de café de Huehuetenango",
    ),
    # figures used inside rich text
    "fig_pour_over_steps": img(
        "figure-pour-over-steps.svg",
        "kettle",
        "sage",
        seed=1,
        width=1200,
        height=800,
        en="Diagram: bloom, then pour in slow spirals, keeping the bed level",
        es="Diagrama: preinfusión y luego vertido en espirales lentas, con la cama nivelada",
    ),
    "fig_roast_curve": img(
        "figure-roast-colours.svg",
        "chart",
        "crema",
        seed=1,
        width=1200,
        height=700,
        en="Six roast colours, from cinnamon to French, on our colour card",
        es="Seis colores de tueste, de canela a francés, en nuestra carta de colores",
    ),
    "fig_extraction": img(
        "figure-extraction.svg",
        "cup",
        "cocoa",
        seed=1,
        width=1200,
        height=800,
        en="A shot glass showing the extraction: dark base, golden crema on top",
        es="Un vaso de chupito que muestra la extracción: base oscura y crema dorada encima",
    ),
    "fig_decaf_tanks": img(
        "figure-decaf-tanks.svg",
        "waves",
        "sage",
        seed=2,
        width=1200,
        height=800,
        en="The steaming vats where beans soak in ethyl acetate from sugarcane",
        es="Las cubas donde los granos se remojan en acetato de etilo de caña de azúcar",
    ),
    "fig_bag_valve": img(
        "figure-bag-valve.svg",
        "jar",
        "cocoa",
        seed=4,
        width=1200,
        height=800,
        en="A resealable bag with a one-way valve, the best home for beans",
        es="Una bolsa con cierre y válvula unidireccional, el mejor hogar para los granos",
    ),
    # gallery images
    "gal_sidama_cherries": img(
        "gallery-sidama-cherries.svg",
        "beans",
        "ember",
        seed=11,
        width=1200,
        height=900,
        en="Ripe red cherries sorted by hand at the washing station",
        es="Cerezas rojas maduras seleccionadas a mano en la estación de lavado",
    ),
    "gal_sidama_beds": img(
        "gallery-sidama-beds.svg",
        "hills",
        "crema",
        seed=12,
        width=1200,
        height=900,
        en="Raised drying beds stretching down the valley",
        es="Camas de secado elevadas que bajan por el valle",
    ),
    "gal_sidama_cupping": img(
        "gallery-sidama-cupping.svg",
        "cup",
        "sage",
        seed=13,
        width=1200,
        height=900,
        en="Cupping the day lots with the cooperative's quality team",
        es="Catando los lotes del día con el equipo de calidad de la cooperativa",
    ),
    "gal_roastery_green": img(
        "gallery-roastery-green.svg",
        "beans",
        "sage",
        seed=21,
        width=1200,
        height=900,
        en="Green coffee weighed out for the first batch",
        es="Café verde pesado para el primer lote",
    ),
    "gal_roastery_drum": img(
        "gallery-roastery-drum.svg",
        "drum",
        "ember",
        seed=22,
        width=1200,
        height=900,
        en="Beans tumbling in the drum at first crack",
        es="Los granos girando en el tambor en el primer crack",
    ),
    "gal_roastery_bags": img(
        "gallery-roastery-bags.svg",
        "jar",
        "crema",
        seed=23,
        width=1200,
        height=900,
        en="Bagging and labelling the morning's roast",
        es="Embolsando y etiquetando el tueste de la mañana",
    ),
    "gal_espresso_tamp": img(
        "gallery-espresso-tamp.svg",
        "cup",
        "night",
        seed=31,
        width=1200,
        height=900,
        en="A level tamp: the first step to an even extraction",
        es="Un prensado nivelado: el primer paso hacia una extracción uniforme",
    ),
    "gal_espresso_scale": img(
        "gallery-espresso-scale.svg",
        "card",
        "crema",
        seed=32,
        width=1200,
        height=900,
        label="Shot log",
        en="The shot log on the scale: dose, yield and time",
        es="El registro de extracciones en la báscula: dosis, rendimiento y tiempo",
    ),
    # video posters
    "poster_tamping": img(
        "poster-tamping.svg",
        "cup",
        "dusk",
        seed=41,
        width=1280,
        height=720,
        en="Video still: Theo demonstrating distribution and tamping",
        es="Fotograma: Theo mostrando la distribución y el prensado",
    ),
    "poster_morning": img(
        "poster-roastery-morning.svg",
        "drum",
        "crema",
        seed=42,
        width=1280,
        height=720,
        en="Video still: the roaster loading the first batch of the day",
        es="Fotograma: el tostador cargando el primer lote del día",
    ),
    "poster_cold_brew": img(
        "poster-cold-brew.svg",
        "jar",
        "night",
        seed=43,
        width=1280,
        height=720,
        en="Video still: filtering a batch of cold brew",
        es="Fotograma: filtrando un lote de cold brew",
    ),
    # downloadable recipe card (linked from rich text)
    "recipe_card": img(
        "espresso-recipe-card.svg",
        "card",
        "ember",
        width=1000,
        height=700,
        label="House espresso",
        en="Printable recipe card for our house espresso",
        es="Tarjeta imprimible con la receta de nuestro espresso de la casa",
    ),
    # people and places
    "portrait_marisol": img(
        "portrait-marisol-ortega.svg",
        "portrait",
        "ember",
        width=600,
        height=600,
        label="Marisol Ortega",
        en="Illustrated portrait of Marisol Ortega",
        es="Retrato ilustrado de Marisol Ortega",
    ),
    "portrait_theo": img(
        "portrait-theo-lindqvist.svg",
        "portrait",
        "harbour",
        width=600,
        height=600,
        label="Theo Lindqvist",
        en="Illustrated portrait of Theo Lindqvist",
        es="Retrato ilustrado de Theo Lindqvist",
    ),
    "portrait_priya": img(
        "portrait-priya-raman.svg",
        "portrait",
        "sage",
        width=600,
        height=600,
        label="Priya Raman",
        en="Illustrated portrait of Priya Raman",
        es="Retrato ilustrado de Priya Raman",
    ),
    "cafe_canal": img(
        "cafe-canal-street.svg",
        "storefront",
        "crema",
        seed=51,
        width=1200,
        height=800,
        en="The Canal Street café, with its bench by the water",
        es="El café de Canal Street, con su banco junto al agua",
    ),
    "cafe_market": img(
        "cafe-old-market.svg",
        "storefront",
        "ember",
        seed=52,
        width=1200,
        height=800,
        en="Old Market café in the old fish hall, with the roastery behind the glass",
        es="El café Old Market en la antigua lonja, con el tostadero tras el cristal",
    ),
    "cafe_waterfront": img(
        "cafe-waterfront.svg",
        "storefront",
        "harbour",
        seed=53,
        width=1200,
        height=800,
        en="The Waterfront café on Pier 2 at sunset",
        es="El café Waterfront en el muelle 2 al atardecer",
    ),
}

# --------------------------------------------------------------------------------------
# Items (feed order)
# --------------------------------------------------------------------------------------

HOURS_CANAL_EN = """
<ul>
  <li>Monday to Friday: 7:00–18:00</li>
  <li>Saturday: 8:00–18:00</li>
  <li>Sunday: 9:00–16:00</li>
</ul>
"""
HOURS_CANAL_ES = """
<ul>
  <li>De lunes a viernes: 7:00–18:00</li>
  <li>Sábado: 8:00–18:00</li>
  <li>Domingo: 9:00–16:00</li>
</ul>
"""
HOURS_MARKET_EN = """
<table><tbody>
  <tr><td>Day</td><td>Café</td><td>Roastery tours</td></tr>
  <tr><td>Tuesday–Friday</td><td>7:30–17:00</td><td>11:00</td></tr>
  <tr><td>Saturday</td><td>8:00–17:00</td><td>10:00 and 14:00</td></tr>
  <tr><td>Sunday and Monday</td><td>9:00–15:00</td><td>—</td></tr>
</tbody></table>
"""
HOURS_MARKET_ES = """
<table><tbody>
  <tr><td>Día</td><td>Café</td><td>Visitas al tostadero</td></tr>
  <tr><td>De martes a viernes</td><td>7:30–17:00</td><td>11:00</td></tr>
  <tr><td>Sábado</td><td>8:00–17:00</td><td>10:00 y 14:00</td></tr>
  <tr><td>Domingo y lunes</td><td>9:00–15:00</td><td>—</td></tr>
</tbody></table>
"""

ITEMS: list[JSON] = [
    # ---------------------------------------------------------------- home
    {
        "codename": "home",
        "type": "home",
        "name": "Home",
        "last_modified": "2026-04-03T08:00:00.000Z",
        "variants": {
            "en-US": {
                "title": "Larkspur Coffee Roasters",
                "headline": "Small-batch coffee, roasted by the harbour",
                "intro": """
                    <p>We roast a few hundred kilos a week in an old fish hall in Port Alder,
                    buy green coffee from farms we visit, and pour it in three cafés along the
                    water. This is where we write down what we learn.</p>
                    <p>New to brewing at home? Start with
                    <a item="pour_over_in_five_steps">a better pour-over in five steps</a>,
                    or come and ask us at <a item="canal_street">Canal Street</a>.</p>
                """,
                "hero_image": ["home_hero"],
                "featured_cafes": ["canal_street", "old_market", "waterfront"],
                "newsletter_note": "One short letter a month: new coffees, no noise.",
            },
            "es-ES": {
                "last_modified": "2026-04-03T08:30:00.000Z",
                "title": "Larkspur Coffee Roasters",
                "headline": "Café de pequeños lotes, tostado junto al puerto",
                "intro": """
                    <p>Tostamos unos cientos de kilos a la semana en una antigua lonja de Port
                    Alder, compramos café verde a fincas que visitamos y lo servimos en tres
                    cafés junto al agua. Aquí apuntamos lo que aprendemos.</p>
                    <p>¿Empiezas a preparar café en casa? Lee
                    <a item="pour_over_in_five_steps">un pour-over mejor en cinco pasos</a>
                    o ven a preguntarnos a <a item="canal_street">Canal Street</a>.</p>
                """,
                "hero_image": ["home_hero"],
                "featured_cafes": ["canal_street", "old_market", "waterfront"],
                "newsletter_note": "Una carta breve al mes: cafés nuevos, sin ruido.",
            },
        },
    },
    # ---------------------------------------------------------------- authors
    {
        "codename": "marisol_ortega",
        "type": "author",
        "name": "Marisol Ortega",
        "last_modified": "2025-06-10T10:00:00.000Z",
        "variants": {
            "en-US": {
                "name": "Marisol Ortega",
                "role": "Head roaster",
                "photo": ["portrait_marisol"],
                "bio": """
                    <p>Marisol has roasted at Larkspur since the first batch in 2017. She
                    cupped her way through the Old Market hall's fish smell to find a profile
                    that works for both espresso and filter, and she still roasts every
                    Tuesday morning.</p>
                    <p>Write to her at <a email="marisol@roastery.example">marisol@roastery.example</a>.</p>
                """,
                "favourite_brew": "A washed Ethiopian on a flat-bottom dripper",
            },
            "es-ES": {
                "name": "Marisol Ortega",
                "role": "Jefa de tueste",
                "photo": ["portrait_marisol"],
                "bio": """
                    <p>Marisol tuesta en Larkspur desde el primer lote, en 2017. Cató hasta
                    dar con un perfil que funciona tanto para espresso como para filtro, y
                    todavía tuesta cada martes por la mañana.</p>
                    <p>Escríbele a <a email="marisol@roastery.example">marisol@roastery.example</a>.</p>
                """,
                "favourite_brew": "Un etíope lavado en un gotero de fondo plano",
            },
        },
    },
    {
        "codename": "theo_lindqvist",
        "type": "author",
        "name": "Theo Lindqvist",
        "last_modified": "2025-06-11T10:00:00.000Z",
        "variants": {
            "en-US": {
                "name": "Theo Lindqvist",
                "role": "Barista trainer",
                "photo": ["portrait_theo"],
                "bio": """
                    <p>Theo runs our barista training and the Saturday home-brewing classes
                    at <a item="canal_street">Canal Street</a>. He believes a scale and a
                    timer fix more coffee than any new grinder.</p>
                """,
                "favourite_brew": "A 1:2 espresso, pulled a little long",
            },
            "es-ES": {
                "name": "Theo Lindqvist",
                "role": "Formador de baristas",
                "photo": ["portrait_theo"],
                "bio": """
                    <p>Theo dirige nuestra formación de baristas y las clases de los sábados
                    en <a item="canal_street">Canal Street</a>. Cree que una báscula y un
                    cronómetro arreglan más cafés que cualquier molino nuevo.</p>
                """,
                "favourite_brew": "Un espresso 1:2, extraído un poco largo",
            },
        },
    },
    {
        "codename": "priya_raman",
        "type": "author",
        "name": "Priya Raman",
        "last_modified": "2025-06-12T10:00:00.000Z",
        "variants": {
            "en-US": {
                "name": "Priya Raman",
                "role": "Green coffee buyer",
                "photo": ["portrait_priya"],
                "bio": """
                    <p>Priya spends a third of the year at origin, mostly in Ethiopia,
                    Colombia and Guatemala. She keeps the spreadsheets that tell us what
                    each farm was paid, and she publishes the numbers.</p>
                """,
                "favourite_brew": "Whatever arrived in the last sample box",
            },
        },
    },
    # ---------------------------------------------------------------- cafés
    {
        "codename": "canal_street",
        "type": "cafe",
        "name": "Canal Street",
        "last_modified": "2025-09-01T09:00:00.000Z",
        "variants": {
            "en-US": {
                "name": "Larkspur Canal Street",
                "url": "canal-street",
                "street": "14 Canal Street",
                "city": "Port Alder",
                "postal_code": "PA1 4CS",
                "phone": "+44 1632 960 114",
                "opening_hours": HOURS_CANAL_EN,
                "description": """
                    <p>Our first café: twelve seats, a bench by the canal and the
                    <strong>Saturday brewing class</strong> at 10:00. Bring your own grinder
                    if you want us to look at it.</p>
                """,
                "photo": ["cafe_canal"],
                "seats": 12,
                "amenities": ["wifi", "dogs_welcome"],
                "opened": "2017-05-20T08:00:00Z",
            },
            "es-ES": {
                "name": "Larkspur Canal Street",
                "url": "calle-del-canal",
                "street": "14 Canal Street",
                "city": "Port Alder",
                "postal_code": "PA1 4CS",
                "phone": "+44 1632 960 114",
                "opening_hours": HOURS_CANAL_ES,
                "description": """
                    <p>Nuestro primer café: doce asientos, un banco junto al canal y la
                    <strong>clase de preparación de los sábados</strong> a las 10:00. Trae tu
                    molino si quieres que le echemos un vistazo.</p>
                """,
                "photo": ["cafe_canal"],
                "seats": 12,
                "amenities": ["wifi", "dogs_welcome"],
                "opened": "2017-05-20T08:00:00Z",
            },
        },
    },
    {
        "codename": "old_market",
        "type": "cafe",
        "name": "Old Market",
        "last_modified": "2025-09-02T09:00:00.000Z",
        "variants": {
            "en-US": {
                "name": "Larkspur Old Market",
                "url": "old-market",
                "street": "3 Old Market Yard",
                "city": "Port Alder",
                "postal_code": "PA2 1OM",
                "phone": "+44 1632 960 203",
                "opening_hours": HOURS_MARKET_EN,
                "description": """
                    <p>The roastery and its café share the old fish hall. Sit at the long
                    bar and watch the drum through the glass; on Saturdays we open the door
                    for a tour.</p>
                """,
                "photo": ["cafe_market"],
                "seats": 40,
                "amenities": ["wifi", "roastery_on_site", "step_free_access"],
                "opened": "2019-03-02T08:00:00Z",
            },
            "es-ES": {
                "name": "Larkspur Old Market",
                "url": "mercado-viejo",
                "street": "3 Old Market Yard",
                "city": "Port Alder",
                "postal_code": "PA2 1OM",
                "phone": "+44 1632 960 203",
                "opening_hours": HOURS_MARKET_ES,
                "description": """
                    <p>El tostadero y su café comparten la antigua lonja. Siéntate en la
                    barra larga y mira el tambor a través del cristal; los sábados abrimos la
                    puerta para una visita.</p>
                """,
                "photo": ["cafe_market"],
                "seats": 40,
                "amenities": ["wifi", "roastery_on_site", "step_free_access"],
                "opened": "2019-03-02T08:00:00Z",
            },
        },
    },
    {
        "codename": "waterfront",
        "type": "cafe",
        "name": "Waterfront",
        "last_modified": "2026-02-18T09:00:00.000Z",
        "variants": {
            "en-US": {
                "name": "Larkspur Waterfront",
                "url": "waterfront",
                "street": "Pier 2, Harbour Walk",
                "city": "Port Alder",
                "postal_code": "PA3 2HW",
                "phone": "+44 1632 960 302",
                "opening_hours": """
                    <ul>
                      <li>Every day: 7:00–19:00</li>
                      <li>Summer evenings (June–August): until 21:00</li>
                    </ul>
                """,
                "description": """
                    <p>Our newest café sits at the end of Pier 2, with a terrace facing the
                    ferries. The menu is short: espresso, two filter coffees and whatever
                    the bakery next door sends over.</p>
                """,
                "photo": ["cafe_waterfront"],
                "seats": 28,
                "amenities": ["outdoor_seating", "step_free_access", "dogs_welcome"],
                "opened": "2026-02-21T07:00:00Z",
            },
        },
    },
]


def article(
    codename: str, name: str, last_modified: str, shared: JSON, en: JSON, es: JSON | None = None
) -> JSON:
    """An article: ``shared`` values (dates, images, author, topics) go into every variant."""
    variants = {"en-US": {**shared, **en}}
    if es is not None:
        variants["es-ES"] = {**shared, **es}
    return {
        "codename": codename,
        "type": "article",
        "name": name,
        "last_modified": last_modified,
        "variants": variants,
    }


ESPRESSO_CODE = '''\
def shot_plan(dose_g: float, ratio: float = 2.0, seconds: tuple[int, int] = (27, 32)) -> str:
    """Turn a dose into a target yield and a time window for the shot log."""
    yield_g = round(dose_g * ratio, 1)
    low, high = seconds
    return f"{dose_g} g in -> {yield_g} g out in {low}-{high} s"


print(shot_plan(18))  # 18 g in -> 36.0 g out in 27-32 s
'''

WATER_CODE = """\
# Larkspur brew water, 10 litres (start from distilled water)
# mineral                    grams
magnesium sulfate (Epsom)    0.95
sodium bicarbonate           0.42
# result: about 90 ppm general hardness, 40 ppm alkalinity as CaCO3
"""

ARTICLES: list[JSON] = [
    # ------------------------------------------------------------ the showcase article
    article(
        "dialing_in_espresso",
        "Dialing in espresso without wasting a bag",
        "2026-04-02T07:30:00.000Z",
        {
            "publish_date": "2026-04-02T07:00:00Z",
            "hero_image": ["hero_espresso"],
            "author": ["theo_lindqvist"],
            "topics": ["espresso"],
            "tags": ["guide", "science"],
            "reading_time": 9,
            "related_articles": ["pour_over_in_five_steps", "water_for_coffee"],
            "accent_color": "#8c2f1b",
        },
        {
            "title": "Dialing in espresso without wasting a bag",
            "url": "dialing-in-espresso",
            "summary": "A recipe, a scale and one variable at a time: how our baristas "
            "get a new coffee tasting right in five shots or fewer.",
            "body": """
                <p>Every new coffee arrives with the same question: <em>how do we make it
                taste like it did on the cupping table?</em> At our cafés we answer it in five
                shots or fewer, and you can do the same at home with a scale and a timer.</p>
                <h2>Start with a recipe</h2>
                <p>A recipe is three numbers. Write them down before the first shot, so that
                every change afterwards has something to be compared with.</p>
                <table><tbody>
                  <tr><td><strong>Variable</strong></td><td><strong>Starting point</strong></td><td><strong>Why</strong></td></tr>
                  <tr><td>Dose</td><td>18 g</td><td>Fills a standard double basket</td></tr>
                  <tr><td>Yield</td><td>36 g (ratio 1:2)</td><td>Balanced body and clarity</td></tr>
                  <tr><td>Time</td><td>27–32 s</td><td>Tells you whether the grind is close</td></tr>
                  <tr><td>Temperature</td><td>93 °C</td><td>Our house default for medium roasts</td></tr>
                </tbody></table>
                <p>The numbers are on our <a asset="recipe_card">printable recipe card</a>,
                and a few lines of Python will turn any dose into a plan for the shot log:</p>
                [[component:ratio_code]]
                <h2>Taste, then adjust one thing</h2>
                <ol>
                  <li>Pull the first shot with the recipe and <strong>taste it</strong> before
                  you look at the timer.</li>
                  <li>Sour, thin or salty? Grind finer. Bitter, dry or hollow? Grind coarser.
                    <ul>
                      <li>Change the grind in small steps: one or two marks.</li>
                      <li>Keep the dose and the yield where they are.</li>
                    </ul>
                  </li>
                  <li>When the taste is close, adjust the yield by 2 g at a time to tune
                  strength.</li>
                  <li>Write down every shot. Memory is a poor barista.</li>
                </ol>
                [[component:change_one_thing]]
                <h3>What a good extraction looks like</h3>
                <p>The stream should start after six to eight seconds, run like warm honey and
                blond at the end. The crema is produced by CO<sub>2</sub> trapped during
                roasting, which is why very fresh coffee can look spectacular and taste
                harsh.</p>
                [[image:fig_extraction]]
                <p>Distribution and tamping matter more than the tamper you buy. Theo shows
                the routine we teach new baristas in this short film:</p>
                [[component:tamping_video]]
                [[component:shot_gallery]]
                <h2>Ask a roaster</h2>
                <p>When a coffee refuses to behave, we ask the person who roasted it. For our
                house blend that is:</p>
                [[item:marisol_ortega]]
                <p>You can watch her roast, and taste the result, at our Old Market café:</p>
                [[item:old_market]]
                <p>If espresso is not your morning, <a item="pour_over_in_five_steps">our
                pour-over guide</a> uses the same idea: one change at a time. Water matters
                too; see <a item="water_for_coffee">water is 98% of your cup</a>. Theo teaches
                all of this on Saturdays at <a item="canal_street">Canal Street</a>; call
                <a phone="+441632960114">+44 1632 960 114</a> to book a place, or read the
                <a href="https://en.wikipedia.org/wiki/Espresso" new>encyclopaedia entry on
                espresso</a> for the history.</p>
                <p>Questions? <a email="hello@roastery.example">hello@roastery.example</a>
                reaches the whole team.</p>
            """,
            "components": {
                "ratio_code": C(
                    "code_sample",
                    language=["python"],
                    caption="A shot plan from a dose, for the shot log",
                    code=ESPRESSO_CODE,
                ),
                "change_one_thing": C(
                    "callout",
                    tone=["warning"],
                    title="Change one thing at a time",
                    content="""
                        <p>If you change the grind <em>and</em> the dose, you will never know
                        which one fixed the shot. Our trainers repeat it so often that a
                        barista once had it printed on an apron:</p>
                        [[component:apron_quote]]
                    """,
                ),
                "apron_quote": C(
                    "quote",
                    text="One variable, one shot, one note. Then drink the coffee.",
                    attribution="Theo Lindqvist",
                    role="Barista trainer, Larkspur",
                ),
                "tamping_video": C(
                    "video_embed",
                    title="Distribution and tamping in ninety seconds",
                    video_url="https://video.roastery.example/tamping",
                    provider=["hosted"],
                    poster=["poster_tamping"],
                    duration=94,
                    caption="Filmed at Canal Street during a Saturday class.",
                ),
                "shot_gallery": C(
                    "gallery",
                    title="At the bar",
                    images=["gal_espresso_tamp", "gal_espresso_scale", "hero_espresso"],
                    caption="Tamp level, log every shot, taste before you look at the timer.",
                ),
            },
        },
        {
            "title": "Cómo ajustar el espresso sin gastar una bolsa",
            "url": "ajustar-el-espresso",
            "summary": "Una receta, una báscula y una variable cada vez: así consiguen "
            "nuestros baristas que un café nuevo sepa bien en cinco extracciones o menos.",
            "body": """
                <p>Cada café nuevo llega con la misma pregunta: <em>¿cómo hacemos que sepa
                como en la mesa de cata?</em> En nuestros cafés la respondemos en cinco
                extracciones o menos, y tú puedes hacer lo mismo en casa con una báscula y un
                cronómetro.</p>
                <h2>Empieza con una receta</h2>
                <p>Una receta son tres números. Apúntalos antes de la primera extracción, para
                que cada cambio posterior tenga con qué compararse.</p>
                <table><tbody>
                  <tr><td><strong>Variable</strong></td><td><strong>Punto de partida</strong></td><td><strong>Por qué</strong></td></tr>
                  <tr><td>Dosis</td><td>18 g</td><td>Llena un cacillo doble estándar</td></tr>
                  <tr><td>Rendimiento</td><td>36 g (proporción 1:2)</td><td>Equilibrio entre cuerpo y claridad</td></tr>
                  <tr><td>Tiempo</td><td>27–32 s</td><td>Indica si la molienda está cerca</td></tr>
                  <tr><td>Temperatura</td><td>93 °C</td><td>Nuestro valor por defecto para tuestes medios</td></tr>
                </tbody></table>
                <p>Los números están en nuestra <a asset="recipe_card">tarjeta de receta
                imprimible</a>, y unas pocas líneas de Python convierten cualquier dosis en un
                plan para el registro:</p>
                [[component:ratio_code]]
                <h2>Prueba y ajusta una sola cosa</h2>
                <ol>
                  <li>Haz la primera extracción con la receta y <strong>pruébala</strong> antes
                  de mirar el cronómetro.</li>
                  <li>¿Ácido, aguado o salado? Muele más fino. ¿Amargo, seco o hueco? Muele más
                  grueso.
                    <ul>
                      <li>Cambia la molienda poco a poco: una o dos marcas.</li>
                      <li>Mantén la dosis y el rendimiento donde están.</li>
                    </ul>
                  </li>
                  <li>Cuando el sabor esté cerca, ajusta el rendimiento de 2 en 2 g para afinar
                  la intensidad.</li>
                  <li>Apunta cada extracción. La memoria es mala barista.</li>
                </ol>
                [[component:change_one_thing]]
                <h3>Cómo es una buena extracción</h3>
                <p>El chorro debería empezar a los seis u ocho segundos, caer como miel tibia
                y aclararse al final. La crema se debe al CO<sub>2</sub> atrapado durante el
                tueste; por eso un café muy fresco puede verse espectacular y saber áspero.</p>
                [[image:fig_extraction]]
                <p>La distribución y el prensado importan más que el prensador que compres.
                Theo enseña la rutina de nuestros baristas nuevos en este vídeo corto:</p>
                [[component:tamping_video]]
                [[component:shot_gallery]]
                <h2>Pregunta a quien lo tostó</h2>
                <p>Cuando un café no se deja domar, preguntamos a quien lo tostó. Para nuestra
                mezcla de la casa es:</p>
                [[item:marisol_ortega]]
                <p>Puedes verla tostar, y probar el resultado, en nuestro café de Old
                Market:</p>
                [[item:old_market]]
                <p>Si el espresso no es lo tuyo, <a item="pour_over_in_five_steps">nuestra guía
                de pour-over</a> sigue la misma idea: un cambio cada vez. El agua también
                cuenta; lee <a item="water_for_coffee">el agua es el 98 % de tu taza</a> (en
                inglés). Theo lo enseña todo los sábados en
                <a item="canal_street">Canal Street</a>; llama al
                <a phone="+441632960114">+44 1632 960 114</a> para reservar plaza, o lee la
                <a href="https://es.wikipedia.org/wiki/Espresso" new>entrada de la enciclopedia
                sobre el espresso</a> para conocer su historia.</p>
                <p>¿Preguntas? <a email="hello@roastery.example">hello@roastery.example</a>
                llega a todo el equipo.</p>
            """,
            "components": {
                "ratio_code": C(
                    "code_sample",
                    language=["python"],
                    caption="Un plan de extracción a partir de la dosis, para el registro",
                    code=ESPRESSO_CODE,
                ),
                "change_one_thing": C(
                    "callout",
                    tone=["warning"],
                    title="Cambia una sola cosa cada vez",
                    content="""
                        <p>Si cambias la molienda <em>y</em> la dosis, nunca sabrás cuál de las
                        dos arregló el café. Nuestros formadores lo repiten tanto que una
                        barista lo mandó imprimir en su delantal:</p>
                        [[component:apron_quote]]
                    """,
                ),
                "apron_quote": C(
                    "quote",
                    text="Una variable, una extracción, una nota. Y luego, bébete el café.",
                    attribution="Theo Lindqvist",
                    role="Formador de baristas, Larkspur",
                ),
                "tamping_video": C(
                    "video_embed",
                    title="Distribución y prensado en noventa segundos",
                    video_url="https://video.roastery.example/tamping",
                    provider=["hosted"],
                    poster=["poster_tamping"],
                    duration=94,
                    caption="Grabado en Canal Street durante una clase de sábado.",
                ),
                "shot_gallery": C(
                    "gallery",
                    title="En la barra",
                    images=["gal_espresso_tamp", "gal_espresso_scale", "hero_espresso"],
                    caption="Prensado nivelado, cada extracción anotada, probar antes de "
                    "mirar el cronómetro.",
                ),
            },
        },
    ),
    # ------------------------------------------------------------ pour-over
    article(
        "pour_over_in_five_steps",
        "A better pour-over in five steps",
        "2026-03-12T08:00:00.000Z",
        {
            "publish_date": "2026-03-12T07:00:00Z",
            "hero_image": ["hero_pour_over"],
            "author": ["theo_lindqvist"],
            "topics": ["filter"],
            "tags": ["guide", "recipe"],
            "reading_time": 6,
            "related_articles": ["dialing_in_espresso", "water_for_coffee"],
            "accent_color": "#b5562b",
        },
        {
            "title": "A better pour-over in five steps",
            "url": "better-pour-over",
            "summary": "Fifteen grams of coffee, a quarter litre of water and four minutes: "
            "the recipe we teach at every Saturday class.",
            "body": """
                <p>A pour-over is the simplest way to taste what a coffee really is. It is
                also easy to get slightly wrong. This is the recipe we teach at
                <a item="canal_street">Canal Street</a> every Saturday.</p>
                <h2>What you need</h2>
                <ul>
                  <li>15 g of coffee, ground like coarse sand</li>
                  <li>250 g of water just off the boil (about 94 °C)</li>
                  <li>A dripper, a paper filter, a scale and a timer</li>
                </ul>
                <h2>The five steps</h2>
                <ol>
                  <li><strong>Rinse the filter</strong> with hot water and pour that water away.</li>
                  <li><strong>Bloom:</strong> pour 40 g of water, stir gently, wait 40 seconds.</li>
                  <li><strong>Pour in spirals</strong> up to 150 g by 1:15.</li>
                  <li><strong>Finish</strong> to 250 g by 1:45, then give the dripper a swirl.</li>
                  <li><strong>Let it drain</strong>; aim to be done between 3:30 and 4:00.</li>
                </ol>
                [[image:fig_pour_over_steps]]
                [[component:bloom_tip]]
                <p>Too slow, too bitter? Grind coarser. Too fast, too sour? Grind finer, the
                same logic we use for <a item="dialing_in_espresso">dialing in espresso</a>.
                Hard tap water can flatten even a great coffee:
                <a item="water_for_coffee">here is what we do about it</a>.</p>
            """,
            "components": {
                "bloom_tip": C(
                    "callout",
                    tone=["tip"],
                    title="Why bloom?",
                    content="""
                        <p>Freshly roasted coffee is full of carbon dioxide. The first small
                        pour lets it escape, so the rest of the water can reach the coffee
                        evenly.</p>
                    """,
                ),
            },
        },
        {
            "title": "Un pour-over mejor en cinco pasos",
            "url": "pour-over-mejor",
            "summary": "Quince gramos de café, un cuarto de litro de agua y cuatro minutos: "
            "la receta que enseñamos en cada clase de los sábados.",
            "body": """
                <p>El pour-over es la forma más sencilla de descubrir cómo es de verdad un
                café. También es fácil hacerlo casi bien. Esta es la receta que enseñamos en
                <a item="canal_street">Canal Street</a> cada sábado.</p>
                <h2>Qué necesitas</h2>
                <ul>
                  <li>15 g de café, molido como arena gruesa</li>
                  <li>250 g de agua recién hervida (unos 94 °C)</li>
                  <li>Un gotero, un filtro de papel, una báscula y un cronómetro</li>
                </ul>
                <h2>Los cinco pasos</h2>
                <ol>
                  <li><strong>Enjuaga el filtro</strong> con agua caliente y tira esa agua.</li>
                  <li><strong>Preinfusión:</strong> vierte 40 g de agua, remueve con suavidad y espera 40 segundos.</li>
                  <li><strong>Vierte en espiral</strong> hasta 150 g antes de 1:15.</li>
                  <li><strong>Termina</strong> en 250 g antes de 1:45 y gira el gotero.</li>
                  <li><strong>Deja que escurra</strong>; lo ideal es terminar entre 3:30 y 4:00.</li>
                </ol>
                [[image:fig_pour_over_steps]]
                [[component:bloom_tip]]
                <p>¿Demasiado lento y amargo? Muele más grueso. ¿Demasiado rápido y ácido?
                Muele más fino: la misma lógica que usamos para
                <a item="dialing_in_espresso">ajustar el espresso</a>. El agua dura del grifo
                puede aplanar incluso un gran café:
                <a item="water_for_coffee">esto es lo que hacemos al respecto</a>.</p>
            """,
            "components": {
                "bloom_tip": C(
                    "callout",
                    tone=["tip"],
                    title="¿Por qué la preinfusión?",
                    content="""
                        <p>El café recién tostado está lleno de dióxido de carbono. El primer
                        vertido pequeño deja que escape, para que el resto del agua llegue al
                        café de manera uniforme.</p>
                    """,
                ),
            },
        },
    ),
    # ------------------------------------------------------------ waterfront opening
    article(
        "waterfront_cafe_opening",
        "Our third café opens on the waterfront",
        "2026-02-19T09:00:00.000Z",
        {
            "publish_date": "2026-02-19T08:00:00Z",
            "hero_image": ["hero_waterfront"],
            "author": ["marisol_ortega"],
            "topics": ["cafe_life"],
            "tags": ["news"],
            "reading_time": 3,
            "related_articles": ["morning_inside_the_roastery"],
            "accent_color": "#2f5d73",
        },
        {
            "title": "Our third café opens on the waterfront",
            "url": "waterfront-opening",
            "summary": "From Saturday 21 February you can drink our coffee at the end of "
            "Pier 2, looking at the ferries.",
            "body": """
                <p>After a winter of sawdust, <a item="waterfront">Larkspur Waterfront</a>
                opens on Saturday 21 February at the end of Pier 2.</p>
                [[item:waterfront]]
                <h2>Opening week</h2>
                <ul>
                  <li><strong>Saturday:</strong> free filter coffee from 7:00 until it runs out</li>
                  <li><strong>Sunday:</strong> a public cupping of this season's Ethiopian lots</li>
                  <li><strong>Wednesday:</strong> latte art throw-down for the harbour staff</li>
                </ul>
                [[component:ferry_note]]
                <p>Canal Street and Old Market keep their usual hours; the roastery's
                <a item="morning_inside_the_roastery">early-morning routine</a> now starts
                half an hour sooner to keep three cafés in beans.</p>
            """,
            "components": {
                "ferry_note": C(
                    "callout",
                    tone=["note"],
                    title="Coming by ferry?",
                    content="""
                        <p>Show your ferry ticket on the day of travel for a free refill of
                        filter coffee.</p>
                    """,
                ),
            },
        },
        {
            "title": "Abrimos nuestro tercer café junto al puerto",
            "url": "apertura-en-el-puerto",
            "summary": "Desde el sábado 21 de febrero puedes tomar nuestro café al final del "
            "muelle 2, mirando los ferris.",
            "body": """
                <p>Tras un invierno de serrín, <a item="waterfront">Larkspur Waterfront</a>
                abre el sábado 21 de febrero al final del muelle 2.</p>
                [[item:waterfront]]
                <h2>La semana de apertura</h2>
                <ul>
                  <li><strong>Sábado:</strong> café de filtro gratis desde las 7:00 hasta que se acabe</li>
                  <li><strong>Domingo:</strong> cata abierta de los lotes etíopes de esta temporada</li>
                  <li><strong>Miércoles:</strong> concurso de latte art para el personal del puerto</li>
                </ul>
                [[component:ferry_note]]
                <p>Canal Street y Old Market mantienen su horario; la
                <a item="morning_inside_the_roastery">rutina matinal del tostadero</a> empieza
                ahora media hora antes para que no falten granos en tres cafés.</p>
            """,
            "components": {
                "ferry_note": C(
                    "callout",
                    tone=["note"],
                    title="¿Vienes en ferri?",
                    content="""
                        <p>Enseña tu billete del día y te rellenamos gratis el café de
                        filtro.</p>
                    """,
                ),
            },
        },
    ),
    # ------------------------------------------------------------ Sidama harvest
    article(
        "harvest_notes_sidama",
        "Harvest notes from Sidama",
        "2026-01-28T10:00:00.000Z",
        {
            "publish_date": "2026-01-28T09:00:00Z",
            "hero_image": ["hero_sidama"],
            "author": ["priya_raman"],
            "topics": ["ethiopia"],
            "tags": ["story"],
            "reading_time": 7,
            "related_articles": ["guatemalan_microlots", "roast_levels_explained"],
            "accent_color": "#6b7f4a",
        },
        {
            "title": "Harvest notes from Sidama",
            "url": "harvest-notes-sidama",
            "summary": "Two weeks at a washing station in southern Ethiopia: cherries, "
            "drying beds and the lots we bought.",
            "body": """
                <p>The harvest in Sidama starts when the cherries on the highest shrubs turn
                the colour of red wine. We arrived in the second week of December, just as
                the washing station began running every day.</p>
                [[component:station_gallery]]
                <h2>What we tasted</h2>
                <ul>
                  <li>Bergamot and black tea in the washed lots from the higher villages</li>
                  <li>Strawberry and cocoa in the naturals dried on raised beds</li>
                  <li>A honeyed, almost floral day lot we could not stop cupping</li>
                </ul>
                [[component:farmer_quote]]
                <p>Marisol joined for the last week to agree the roast profiles on site:</p>
                [[item:marisol_ortega]]
                <p>The coffees land in April. Until then, the
                <a item="guatemalan_microlots">Guatemalan microlots</a> are on the bar.</p>
            """,
            "components": {
                "station_gallery": C(
                    "gallery",
                    title="At the washing station",
                    images=["gal_sidama_cherries", "gal_sidama_beds", "gal_sidama_cupping"],
                    caption="Picking, drying and cupping in the same valley.",
                ),
                "farmer_quote": C(
                    "quote",
                    text="The coffee is only as good as the slowest afternoon on the beds.",
                    attribution="Station manager",
                    role="Washing station, Sidama",
                ),
            },
        },
        {
            "title": "Notas de cosecha desde Sidama",
            "url": "notas-de-cosecha-sidama",
            "summary": "Dos semanas en una estación de lavado del sur de Etiopía: cerezas, "
            "camas de secado y los lotes que compramos.",
            "body": """
                <p>La cosecha en Sidama empieza cuando las cerezas de los cafetos más altos
                toman el color del vino tinto. Llegamos la segunda semana de diciembre, justo
                cuando la estación de lavado empezaba a trabajar a diario.</p>
                [[component:station_gallery]]
                <h2>Lo que probamos</h2>
                <ul>
                  <li>Bergamota y té negro en los lavados de las aldeas más altas</li>
                  <li>Fresa y cacao en los naturales secados en camas elevadas</li>
                  <li>Un lote del día meloso, casi floral, que no dejábamos de catar</li>
                </ul>
                [[component:farmer_quote]]
                <p>Marisol se unió la última semana para acordar los perfiles de tueste allí
                mismo:</p>
                [[item:marisol_ortega]]
                <p>Los cafés llegan en abril. Hasta entonces, en la barra están los
                <a item="guatemalan_microlots">microlotes guatemaltecos</a>.</p>
            """,
            "components": {
                "station_gallery": C(
                    "gallery",
                    title="En la estación de lavado",
                    images=["gal_sidama_cherries", "gal_sidama_beds", "gal_sidama_cupping"],
                    caption="Recolección, secado y cata en el mismo valle.",
                ),
                "farmer_quote": C(
                    "quote",
                    text="El café solo es tan bueno como la tarde más lenta en las camas.",
                    attribution="Jefe de la estación",
                    role="Estación de lavado, Sidama",
                ),
            },
        },
    ),
    # ------------------------------------------------------------ roastery morning
    article(
        "morning_inside_the_roastery",
        "A morning inside the roastery",
        "2025-12-09T09:00:00.000Z",
        {
            "publish_date": "2025-12-09T08:00:00Z",
            "hero_image": ["hero_roastery_morning"],
            "author": ["marisol_ortega"],
            "topics": ["roasting", "cafe_life"],
            "tags": ["story"],
            "reading_time": 5,
            "related_articles": ["roast_levels_explained", "waterfront_cafe_opening"],
            "accent_color": "#d9a441",
        },
        {
            "title": "A morning inside the roastery",
            "url": "morning-inside-the-roastery",
            "summary": "From the first warm-up batch at six to the last bag sealed at "
            "noon: what happens behind the glass at Old Market.",
            "body": """
                <p>The roaster is switched on at 5:40. By six it is warm enough for a
                sacrificial batch of cheap beans that seasons the drum and that nobody
                drinks.</p>
                [[component:morning_video]]
                <h2>Four batches before breakfast</h2>
                <p>Each batch is twelve kilos and about eleven minutes. We roast the filter
                coffees first, lightest to darkest, and the espresso blend last, when the
                drum is at its steadiest. Our <a item="roast_levels_explained">guide to roast
                levels</a> explains what we aim for.</p>
                [[component:morning_gallery]]
                <p>Everything happens in the glass box at the back of the café, so you can
                watch with a coffee in hand:</p>
                [[item:old_market]]
            """,
            "components": {
                "morning_video": C(
                    "video_embed",
                    title="Six o'clock at the roastery",
                    video_url="https://video.roastery.example/roastery-morning",
                    provider=["hosted"],
                    poster=["poster_morning"],
                    duration=212,
                    caption="Three and a half minutes, no music, just the drum.",
                ),
                "morning_gallery": C(
                    "gallery",
                    title="One batch, start to finish",
                    images=["gal_roastery_green", "gal_roastery_drum", "gal_roastery_bags"],
                    caption="Weigh, roast, cool, bag.",
                ),
            },
        },
        {
            "title": "Una mañana dentro del tostadero",
            "url": "una-manana-en-el-tostadero",
            "summary": "Desde el primer lote de calentamiento a las seis hasta la última "
            "bolsa sellada a mediodía: lo que pasa tras el cristal de Old Market.",
            "body": """
                <p>El tostador se enciende a las 5:40. A las seis ya está lo bastante caliente
                para un lote de sacrificio, con granos baratos, que cura el tambor y que nadie
                se bebe.</p>
                [[component:morning_video]]
                <h2>Cuatro lotes antes del desayuno</h2>
                <p>Cada lote son doce kilos y unos once minutos. Tostamos primero los cafés de
                filtro, del más claro al más oscuro, y la mezcla de espresso al final, cuando
                el tambor está más estable. Nuestra
                <a item="roast_levels_explained">guía de niveles de tueste</a> explica qué
                buscamos.</p>
                [[component:morning_gallery]]
                <p>Todo ocurre en la caja de cristal al fondo del café, así que puedes mirarlo
                con un café en la mano:</p>
                [[item:old_market]]
            """,
            "components": {
                "morning_video": C(
                    "video_embed",
                    title="Las seis en el tostadero",
                    video_url="https://video.roastery.example/roastery-morning",
                    provider=["hosted"],
                    poster=["poster_morning"],
                    duration=212,
                    caption="Tres minutos y medio, sin música, solo el tambor.",
                ),
                "morning_gallery": C(
                    "gallery",
                    title="Un lote, de principio a fin",
                    images=["gal_roastery_green", "gal_roastery_drum", "gal_roastery_bags"],
                    caption="Pesar, tostar, enfriar, embolsar.",
                ),
            },
        },
    ),
    # ------------------------------------------------------------ roast levels
    article(
        "roast_levels_explained",
        "What roast level really means",
        "2025-11-20T09:00:00.000Z",
        {
            "publish_date": "2025-11-20T08:00:00Z",
            "hero_image": ["hero_roast_levels"],
            "author": ["marisol_ortega"],
            "topics": ["roasting"],
            "tags": ["science"],
            "reading_time": 6,
            "related_articles": ["morning_inside_the_roastery"],
            "accent_color": "#5a3522",
        },
        {
            "title": "What roast level really means",
            "url": "roast-levels",
            "summary": "Light, medium and dark are not flavours. A roaster's guide to what "
            "changes in the drum, and what it does to your cup.",
            "body": """
                <p>“Light” and “dark” describe colour, not taste. What matters is how much
                the bean has developed after <em>first crack</em>, the audible pop when water
                inside the bean turns to steam.</p>
                <table><tbody>
                  <tr><td><strong>Roast</strong></td><td><strong>Development after first crack</strong></td><td><strong>End temperature</strong></td><td><strong>In the cup</strong></td></tr>
                  <tr><td>Light</td><td>60–90 s</td><td>about 205 °C</td><td>Bright acidity, fruit, tea-like body</td></tr>
                  <tr><td>Medium</td><td>90–150 s</td><td>about 215 °C</td><td>Caramel sweetness, rounder body</td></tr>
                  <tr><td>Dark</td><td>past second crack</td><td>225 °C and up</td><td>Bitter-sweet, smoky, heavy</td></tr>
                </tbody></table>
                [[image:fig_roast_curve]]
                [[component:roaster_quote]]
                <p>Want to see it happen? Every batch is roasted in the open during
                <a item="morning_inside_the_roastery">our morning shift</a>.</p>
            """,
            "components": {
                "roaster_quote": C(
                    "quote",
                    text="Colour is what you see. Development is what you taste.",
                    attribution="Marisol Ortega",
                    role="Head roaster",
                ),
            },
        },
        {
            "title": "Qué significa realmente el nivel de tueste",
            "url": "niveles-de-tueste",
            "summary": "Claro, medio y oscuro no son sabores. Guía de tostadora sobre lo que "
            "cambia en el tambor y lo que provoca en tu taza.",
            "body": """
                <p>«Claro» y «oscuro» describen un color, no un sabor. Lo que importa es
                cuánto se ha desarrollado el grano después del <em>primer crack</em>, el
                chasquido que se oye cuando el agua del interior se convierte en vapor.</p>
                <table><tbody>
                  <tr><td><strong>Tueste</strong></td><td><strong>Desarrollo tras el primer crack</strong></td><td><strong>Temperatura final</strong></td><td><strong>En la taza</strong></td></tr>
                  <tr><td>Claro</td><td>60–90 s</td><td>unos 205 °C</td><td>Acidez viva, fruta, cuerpo ligero</td></tr>
                  <tr><td>Medio</td><td>90–150 s</td><td>unos 215 °C</td><td>Dulzor acaramelado, cuerpo redondo</td></tr>
                  <tr><td>Oscuro</td><td>tras el segundo crack</td><td>225 °C o más</td><td>Agridulce, ahumado, denso</td></tr>
                </tbody></table>
                [[image:fig_roast_curve]]
                [[component:roaster_quote]]
                <p>¿Quieres verlo? Cada lote se tuesta a la vista durante
                <a item="morning_inside_the_roastery">nuestro turno de mañana</a>.</p>
            """,
            "components": {
                "roaster_quote": C(
                    "quote",
                    text="El color es lo que ves. El desarrollo es lo que saboreas.",
                    attribution="Marisol Ortega",
                    role="Jefa de tueste",
                ),
            },
        },
    ),
    # ------------------------------------------------------------ sugarcane decaf (en only)
    article(
        "sugarcane_decaf",
        "How our sugarcane decaf is made",
        "2025-10-14T09:00:00.000Z",
        {
            "publish_date": "2025-10-14T08:00:00Z",
            "hero_image": ["hero_decaf"],
            "author": ["priya_raman"],
            "topics": ["colombia"],
            "tags": ["science", "story"],
            "reading_time": 5,
            "related_articles": ["harvest_notes_sidama"],
            "accent_color": "#a3473f",
        },
        {
            "title": "How our sugarcane decaf is made",
            "url": "sugarcane-decaf",
            "summary": "No chlorinated solvents, no charcoal filters: the Colombian process "
            "that takes caffeine out with a by-product of sugar.",
            "body": """
                <p>Our decaf comes from Huila, Colombia, and is decaffeinated a few hours
                away in Manizales, using ethyl acetate made from fermented sugarcane.</p>
                <h2>The process</h2>
                <ol>
                  <li>Green beans are steamed to open their pores.</li>
                  <li>They soak in a bath of water and ethyl acetate, which bonds with the
                  caffeine.</li>
                  <li>The bath is drained and repeated until 97% of the caffeine is gone.</li>
                  <li>A final steam removes the last traces of the solvent.</li>
                  <li>The beans are dried back to their original moisture and bagged.</li>
                </ol>
                [[image:fig_decaf_tanks]]
                [[component:decaf_quote]]
                <p>We roast it a touch darker than the single origins on our
                <a item="roast_levels_explained">roast scale</a>: decaf beans are more porous
                and brown faster.</p>
            """,
            "components": {
                "decaf_quote": C(
                    "quote",
                    text="People ask for decaf at eight in the evening and expect it to taste "
                    "like eight in the morning. That is the bar.",
                    attribution="Priya Raman",
                    role="Green coffee buyer",
                ),
            },
        },
    ),
    # ------------------------------------------------------------ water (en only)
    article(
        "water_for_coffee",
        "Water is 98% of your cup",
        "2025-09-03T09:00:00.000Z",
        {
            "publish_date": "2025-09-03T08:00:00Z",
            "hero_image": ["hero_water"],
            "author": ["theo_lindqvist"],
            "topics": ["brewing"],
            "tags": ["science", "guide"],
            "reading_time": 6,
            "related_articles": ["pour_over_in_five_steps", "dialing_in_espresso"],
            "accent_color": "#2f5d73",
        },
        {
            "title": "Water is 98% of your cup",
            "url": "water-for-coffee",
            "summary": "Why the same coffee tastes different in two towns, and the two-mineral "
            "recipe we use for brewing water.",
            "body": """
                <p>A cup of filter coffee is about 98.7% water. The minerals dissolved in it
                decide which flavours are pulled out of the grounds, and which are
                flattened.</p>
                <h2>What to aim for</h2>
                <table><tbody>
                  <tr><td><strong>Measure</strong></td><td><strong>Target</strong></td><td><strong>Port Alder tap water</strong></td></tr>
                  <tr><td>General hardness</td><td>50–175 ppm</td><td>240 ppm</td></tr>
                  <tr><td>Alkalinity</td><td>around 40 ppm</td><td>160 ppm</td></tr>
                  <tr><td>pH</td><td>6.5–7.5</td><td>7.9</td></tr>
                </tbody></table>
                <p>Our tap water is hard and heavily buffered, which mutes acidity. In the
                cafés we filter it; for training we build water from scratch:</p>
                [[component:water_recipe]]
                <ul>
                  <li>Store the mineral concentrate in the fridge and use within a month.</li>
                  <li>Never use distilled water on its own: it tastes flat and can damage
                  espresso machines.</li>
                </ul>
                <p>Try the same coffee with two waters side by side, using
                <a item="pour_over_in_five_steps">our pour-over recipe</a>. The difference is
                rarely subtle.</p>
            """,
            "components": {
                "water_recipe": C(
                    "code_sample",
                    language=["text"],
                    caption="Our training water recipe",
                    code=WATER_CODE,
                ),
            },
        },
    ),
    # ------------------------------------------------------------ Guatemala
    article(
        "guatemalan_microlots",
        "A season of Guatemalan microlots",
        "2025-08-27T09:00:00.000Z",
        {
            "publish_date": "2025-08-27T08:00:00Z",
            "hero_image": ["hero_guatemala"],
            "author": ["priya_raman"],
            "topics": ["guatemala"],
            "tags": ["story"],
            "reading_time": 4,
            "related_articles": ["harvest_notes_sidama"],
            "accent_color": "#8c2f1b",
        },
        {
            "title": "A season of Guatemalan microlots",
            "url": "guatemalan-microlots",
            "summary": "Three small farms in Huehuetenango, three very different coffees, "
            "and why we pay for them separately.",
            "body": """
                <p>A microlot is a few bags from one part of one farm, kept apart from the
                moment of picking. This year we bought three from Huehuetenango.</p>
                <table><tbody>
                  <tr><td><strong>Farm</strong></td><td><strong>Altitude</strong></td><td><strong>Process</strong></td><td><strong>Tasting notes</strong></td></tr>
                  <tr><td>Finca Los Cipreses</td><td>1,850 m</td><td>Washed</td><td>Red apple, panela</td></tr>
                  <tr><td>El Mirador</td><td>1,700 m</td><td>Honey</td><td>Apricot, milk chocolate</td></tr>
                  <tr><td>La Cumbre</td><td>1,950 m</td><td>Washed</td><td>Lime, black tea, jasmine</td></tr>
                </tbody></table>
                <p>Each farm is paid for its own lot, at a price we publish. It is slower and
                more expensive than buying a regional blend, and it is the only way to know
                what we are paying for. The same approach took us to
                <a item="harvest_notes_sidama">Sidama</a> this winter.</p>
            """,
        },
        {
            "title": "Una temporada de microlotes guatemaltecos",
            "url": "microlotes-guatemaltecos",
            "summary": "Tres fincas pequeñas de Huehuetenango, tres cafés muy distintos y por "
            "qué los pagamos por separado.",
            "body": """
                <p>Un microlote son unos pocos sacos de una parte de una finca, separados
                desde el momento de la recolección. Este año compramos tres en
                Huehuetenango.</p>
                <table><tbody>
                  <tr><td><strong>Finca</strong></td><td><strong>Altitud</strong></td><td><strong>Proceso</strong></td><td><strong>Notas de cata</strong></td></tr>
                  <tr><td>Finca Los Cipreses</td><td>1850 m</td><td>Lavado</td><td>Manzana roja, panela</td></tr>
                  <tr><td>El Mirador</td><td>1700 m</td><td>Honey</td><td>Albaricoque, chocolate con leche</td></tr>
                  <tr><td>La Cumbre</td><td>1950 m</td><td>Lavado</td><td>Lima, té negro, jazmín</td></tr>
                </tbody></table>
                <p>Cada finca cobra su propio lote, a un precio que publicamos. Es más lento y
                más caro que comprar una mezcla regional, y es la única forma de saber qué
                estamos pagando. Lo mismo nos llevó a
                <a item="harvest_notes_sidama">Sidama</a> este invierno.</p>
            """,
        },
    ),
    # ------------------------------------------------------------ cold brew (en only)
    article(
        "cold_brew_at_home",
        "Cold brew at home, the slow way",
        "2025-07-15T09:00:00.000Z",
        {
            "publish_date": "2025-07-15T08:00:00Z",
            "hero_image": ["hero_cold_brew"],
            "author": ["theo_lindqvist"],
            "topics": ["cold_brew"],
            "tags": ["recipe"],
            "reading_time": 4,
            "related_articles": ["storing_coffee_beans"],
            "accent_color": "#34465a",
        },
        {
            "title": "Cold brew at home, the slow way",
            "url": "cold-brew-at-home",
            "summary": "A jar, a sieve and fourteen hours in the fridge make a smooth "
            "concentrate that keeps for a week.",
            "body": """
                <p>Cold brew is not iced coffee. It is brewed with cold water over many hours,
                which extracts less acidity and bitterness and gives a round, chocolatey
                concentrate.</p>
                <h2>Recipe (makes about 700 ml of concentrate)</h2>
                <ol>
                  <li>Grind 100 g of coffee very coarse, like breadcrumbs.</li>
                  <li>Stir it into 800 g of cold filtered water in a large jar.</li>
                  <li>Cover and leave in the fridge for 14 to 18 hours.</li>
                  <li>Strain through a sieve, then through a paper filter.</li>
                  <li>Dilute 1:1 with water or milk and serve over ice.</li>
                </ol>
                [[component:cold_brew_video]]
                [[component:cold_brew_tip]]
            """,
            "components": {
                "cold_brew_video": C(
                    "video_embed",
                    title="Filtering cold brew without the mess",
                    video_url="https://video.roastery.example/cold-brew",
                    provider=["hosted"],
                    poster=["poster_cold_brew"],
                    duration=128,
                    caption="Two filters, one jug, no sludge.",
                ),
                "cold_brew_tip": C(
                    "callout",
                    tone=["tip"],
                    title="Which coffee?",
                    content="""
                        <p>Medium roasts with chocolate and nut notes work best. Save the
                        delicate light roasts for <a item="pour_over_in_five_steps">the
                        pour-over</a>.</p>
                    """,
                ),
            },
        },
    ),
    # ------------------------------------------------------------ storage (en only)
    article(
        "storing_coffee_beans",
        "Storing beans: five myths, retired",
        "2025-05-22T09:00:00.000Z",
        {
            "publish_date": "2025-05-22T08:00:00Z",
            "hero_image": ["hero_storage"],
            "author": ["theo_lindqvist"],
            "topics": ["brewing"],
            "tags": ["guide"],
            "reading_time": 5,
            "related_articles": ["cold_brew_at_home"],
            "accent_color": "#b5562b",
        },
        {
            "title": "Storing beans: five myths, retired",
            "url": "storing-coffee-beans",
            "summary": "No, the freezer will not ruin your coffee. What actually keeps beans "
            "fresh, and what does not.",
            "body": """
                <p>Roasted coffee has four enemies: air, light, heat and moisture. Most
                storage advice gets at least one of them wrong.</p>
                <h2>Myth 1: the fridge keeps coffee fresh</h2>
                <p>It does not. Fridges are humid and full of smells that coffee absorbs.</p>
                <h2>Myth 2: never freeze coffee</h2>
                <p>Freezing works well if the beans are sealed in small portions and
                brought to room temperature before the bag is opened.</p>
                <h2>Myth 3: fresher is always better</h2>
                <p>Coffee needs a few days to rest after roasting. We suggest 5 to 10 days
                for filter and 7 to 21 for espresso.</p>
                <h2>Myth 4: a clear jar shows off your beans</h2>
                <p>It also lets light in. Use an opaque container or the original bag.</p>
                [[image:fig_bag_valve]]
                <h2>Myth 5: the valve is for sniffing</h2>
                <p>The one-way valve lets carbon dioxide out without letting air in. Squeezing
                the bag to smell the coffee pushes out the gas that protects it.</p>
                [[component:storage_note]]
            """,
            "components": {
                "storage_note": C(
                    "callout",
                    tone=["note"],
                    title="The short version",
                    content="""
                        <ul>
                          <li>Keep beans whole, sealed and in a cupboard.</li>
                          <li>Buy what you will drink in two to three weeks.</li>
                          <li>Grind just before brewing.</li>
                        </ul>
                    """,
                ),
            },
        },
    ),
]

ITEMS += ARTICLES
