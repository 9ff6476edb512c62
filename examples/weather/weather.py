"""Weather: `/weather <city>` (or `天气`, `天気`) answered with a template in the chat's language.

The texts are the Master's `template.weather_*` keys (en, zh_Hans, ja); the Master renders them
in each chat's locale, formatting the numbers the locale's way. Run it with
`python -m kenkogo_master.sdk.run examples.weather:app --url http://127.0.0.1:17680`.
"""

from __future__ import annotations

from kenkogo_master.sdk import App, Block, Message, Reply

app = App("weather", "1.0.0", description="Today's weather, in three languages", priority=5)

# A stand-in for a weather service: °C and relative humidity by lower-case city name.
FORECASTS: dict[str, tuple[float, float]] = {
    "beijing": (3.5, 0.28),
    "北京": (3.5, 0.28),
    "tokyo": (12.25, 0.61),
    "東京": (12.25, 0.61),
    "london": (8.0, 0.87),
}


@app.command("/weather", "天气", "天気")
async def weather(message: Message) -> Block:
    """Report a city's weather; stop lower-priority apps from answering the command too."""
    city = message.args
    if not city:
        return Block(Reply(template="template.weather_usage", params={"command": message.command}))
    forecast = FORECASTS.get(city.lower())
    if forecast is None:
        return Block(Reply(template="template.weather_unknown_city", params={"city": city}))
    temperature, humidity = forecast
    params = {
        "city": city,
        "temperature": {"number": temperature},
        "humidity": {"percent": humidity},
    }
    return Block(Reply(template="template.weather_report", params=params))


if __name__ == "__main__":
    app.run()
