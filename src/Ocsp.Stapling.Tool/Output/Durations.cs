using System.Globalization;

namespace Ocsp.Stapling.Tool;

/// <summary>Durations as the tool's options and configuration write them: "7d", "12h", "90m", "30s", or a TimeSpan ("7.00:00:00").</summary>
internal static class Durations
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        if (text.Length > 1 && double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double amount)
            && amount >= 0 && double.IsFinite(amount))
        {
            double? seconds = text[^1] switch { 'd' => amount * 86400, 'h' => amount * 3600, 'm' => amount * 60, 's' => amount, _ => null };
            if (seconds is { } s && s <= TimeSpan.MaxValue.TotalSeconds)
            {
                duration = TimeSpan.FromSeconds(s);
                return true;
            }
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration) && duration >= TimeSpan.Zero;
    }

    /// <summary>A duration the way the options are written: "7d", "12h", "10m", "30s", or the largest units that add up to it ("1d12h", "90s" as "1m30s").</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero)
        {
            return "0s";
        }

        if (duration.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.###}s");
        }

        var text = new System.Text.StringBuilder();
        Append(text, (long)duration.TotalDays, 'd');
        Append(text, duration.Hours, 'h');
        Append(text, duration.Minutes, 'm');
        Append(text, duration.Seconds, 's');

        return text.ToString();

        static void Append(System.Text.StringBuilder text, long amount, char unit)
        {
            if (amount > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"{amount}{unit}");
            }
        }
    }
}
