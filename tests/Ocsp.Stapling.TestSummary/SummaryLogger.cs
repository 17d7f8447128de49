using System.Globalization;
using Microsoft.VisualStudio.TestPlatform.ObjectModel;
using Microsoft.VisualStudio.TestPlatform.ObjectModel.Client;
using Microsoft.VisualStudio.TestPlatform.ObjectModel.Logging;

namespace Ocsp.Stapling.TestSummary;

/// <summary>
/// At the end of each test assembly's run, one short block: the counts, then every failure with its first message line,
/// then the skips grouped by reason (a missing program or server skips dozens of tests for one reason). With the console
/// logger at minimal verbosity (Directory.Build.props sets both), passing tests print nothing.
/// </summary>
[FriendlyName("summary")]
[ExtensionUri("logger://Ocsp.Stapling/summary")]
public sealed class SummaryLogger : ITestLogger
{
    private readonly List<TestResult> _failed = [];
    private readonly List<TestResult> _skipped = [];
    private readonly HashSet<string> _sources = [];
    private int _passed;

    /// <inheritdoc />
    public void Initialize(TestLoggerEvents events, string testRunDirectory)
    {
        ArgumentNullException.ThrowIfNull(events);
        events.TestResult += (_, e) =>
        {
            lock (_failed)
            {
                _sources.Add(Path.GetFileName(e.Result.TestCase.Source));
                switch (e.Result.Outcome)
                {
                    case TestOutcome.Passed: _passed++; break;
                    case TestOutcome.Failed: _failed.Add(e.Result); break;
                    case TestOutcome.Skipped or TestOutcome.None or TestOutcome.NotFound: _skipped.Add(e.Result); break;
                }
            }
        };
        events.TestRunComplete += (_, e) =>
        {
            if (_sources.Count > 0) // an assembly with no test left by a --filter says nothing
            {
                Console.WriteLine(Summary(e.ElapsedTimeInRunningTests));
            }
        };
    }

    private string Summary(TimeSpan elapsed)
    {
        lock (_failed)
        {
            var text = new System.Text.StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture, $"Summary of {string.Join(", ", _sources.Order(StringComparer.Ordinal))}: {_passed} passed, {_failed.Count} failed, {_skipped.Count} skipped in {elapsed.TotalSeconds:0} s");
            foreach (TestResult result in _failed.OrderBy(r => r.TestCase.FullyQualifiedName, StringComparer.Ordinal))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  FAILED  {result.TestCase.FullyQualifiedName}{Parameters(result)}: {FirstLine(result.ErrorMessage)}");
            }

            foreach (IGrouping<string, TestResult> reason in _skipped.GroupBy(r => FirstLine(SkipReason(r))).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                string[] classes = [.. reason.Select(r => ClassName(r.TestCase.FullyQualifiedName)).Distinct().Order(StringComparer.Ordinal)];
                text.AppendLine(CultureInfo.InvariantCulture, $"  SKIPPED {reason.Count()} ({string.Join(", ", classes.Take(4))}{(classes.Length > 4 ? ", …" : "")}): {reason.Key}");
            }

            return text.ToString().TrimEnd();
        }
    }

    /// <summary>xunit gives a skip's reason as the result's error message (or as a message).</summary>
    private static string? SkipReason(TestResult result) =>
        !string.IsNullOrWhiteSpace(result.ErrorMessage) ? result.ErrorMessage : result.Messages.FirstOrDefault(m => !string.IsNullOrWhiteSpace(m.Text))?.Text;

    private static string Parameters(TestResult result) =>
        result.DisplayName is { } name && name.IndexOf('(', StringComparison.Ordinal) is int open and >= 0 ? name[open..] : string.Empty;

    private static string ClassName(string fullyQualifiedName)
    {
        string method = fullyQualifiedName.Split('(')[0];
        int dot = method.LastIndexOf('.');
        string type = dot < 0 ? method : method[..dot];
        return type[(type.LastIndexOf('.') + 1)..];
    }

    private static string FirstLine(string? text) =>
        string.IsNullOrWhiteSpace(text) ? "(no reason given)" : text.Trim().Split('\n')[0].Trim();
}
