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
}
