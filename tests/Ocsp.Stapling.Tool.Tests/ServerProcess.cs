using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tool.Tests;

/// <summary>An nginx or HAProxy daemon with its own configuration and pidfile in a test directory, stopped by that pid.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly string _pidFile;
    private readonly string _logFile;

    private ServerProcess(string pidFile, string logFile) => (_pidFile, _logFile) = (pidFile, logFile);

    /// <summary>The server's error log so far (for failure messages).</summary>
    public string ErrorLog => File.Exists(_logFile) ? File.ReadAllText(_logFile) : "";

    public static async Task<ServerProcess> StartNginxAsync(string directory, string serverBlock)
    {
        string prefix = Path.Combine(directory, "nginx-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(prefix);
        string pid = Path.Combine(prefix, "nginx.pid");
        string error = Path.Combine(prefix, "error.log");
        string user = Environment.UserName == "root" ? "user root;" : "";
        string config = Path.Combine(prefix, "nginx.conf");
        await File.WriteAllTextAsync(config, $$"""
            {{user}}
            daemon on;
            worker_processes 1;
            pid {{pid}};
            error_log {{error}} info;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path {{prefix}}/body;
                proxy_temp_path {{prefix}}/proxy;
                fastcgi_temp_path {{prefix}}/fastcgi;
                uwsgi_temp_path {{prefix}}/uwsgi;
                scgi_temp_path {{prefix}}/scgi;
            {{serverBlock}}
            }
            """);
        ProgramResult result = await DaemonizeAsync(ExternalProgram.Find("nginx")!, $"-p '{prefix}' -c '{config}'", prefix);
        Assert.True(result.ExitCode == 0, $"nginx did not start:\n{result}\n{(File.Exists(error) ? File.ReadAllText(error) : "")}");
        return await WaitForPidAsync(pid, error);
    }

    /// <summary>HAProxy with its own configuration and pidfile; <paramref name="global"/> adds lines to its <c>global</c> section (a stats socket).</summary>
    public static async Task<ServerProcess> StartHaProxyAsync(string directory, string frontend, string global = "")
    {
        string prefix = Path.Combine(directory, "haproxy-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(prefix);
        string pid = Path.Combine(prefix, "haproxy.pid");
        string config = Path.Combine(prefix, "haproxy.cfg");
        await File.WriteAllTextAsync(config, $"""
            global
                daemon
                pidfile {pid}
                {global}
            defaults
                mode http
                timeout connect 5s
                timeout client 10s
                timeout server 10s
            {frontend}

            """);
        ProgramResult result = await DaemonizeAsync(ExternalProgram.Find("haproxy")!, $"-f '{config}'", prefix);
        Assert.True(result.ExitCode == 0, $"haproxy did not start:\n{result}");
        return await WaitForPidAsync(pid, Path.Combine(prefix, "start.log"));
    }

    /// <summary>
    /// Apache httpd (Debian's <c>apache2</c>) with mod_ssl, its own ServerRoot, runtime directory, stapling cache and pidfile.
    /// As root its workers run as www-data (Apache refuses root workers); the parent reads the keys and opens the logs first.
    /// </summary>
    public static async Task<ServerProcess> StartApacheAsync(string directory, string virtualHost)
    {
        const string Modules = "/usr/lib/apache2/modules";
        string prefix = Path.Combine(directory, "apache-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(prefix);
        string pid = Path.Combine(prefix, "apache.pid");
        string error = Path.Combine(prefix, "error.log");
        string config = Path.Combine(prefix, "httpd.conf");
        string user = Environment.UserName == "root" ? "User www-data\nGroup www-data" : "";
        await File.WriteAllTextAsync(config, $$"""
            ServerRoot {{prefix}}
            ServerName localhost
            PidFile {{pid}}
            DefaultRuntimeDir {{prefix}}
            Mutex file:{{prefix}} default
            ErrorLog {{error}}
            LogLevel info ssl:debug
            {{user}}
            LoadModule mpm_event_module {{Modules}}/mod_mpm_event.so
            LoadModule authz_core_module {{Modules}}/mod_authz_core.so
            LoadModule socache_shmcb_module {{Modules}}/mod_socache_shmcb.so
            LoadModule ssl_module {{Modules}}/mod_ssl.so
            SSLStaplingCache shmcb:{{prefix}}/stapling(128000)
            {{virtualHost}}

            """);
        ProgramResult result = await DaemonizeAsync(ExternalProgram.Find("apache2")!, $"-f '{config}' -k start", prefix);
        Assert.True(result.ExitCode == 0, $"apache2 did not start:\n{result}\n{(File.Exists(error) ? File.ReadAllText(error) : "")}");
        return await WaitForPidAsync(pid, error);
    }

    /// <summary>
    /// An exim (Debian's <c>exim4</c>) SMTP daemon with its own configuration, spool, logs and pidfile, listening on one
    /// loopback port; <paramref name="settings"/> are added to its main section.
    /// </summary>
    public static async Task<ServerProcess> StartEximAsync(string directory, int port, string settings)
    {
        string prefix = Path.Combine(directory, "exim-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(prefix, "spool"));
        if (!OperatingSystem.IsWindows())
        {
            // exim writes its logs and spool as its own user
            File.SetUnixFileMode(prefix, (UnixFileMode)0b111_111_111);
            File.SetUnixFileMode(Path.Combine(prefix, "spool"), (UnixFileMode)0b111_111_111);
        }

        string pid = Path.Combine(prefix, "exim.pid");
        string config = Path.Combine(prefix, "exim.conf");
        await File.WriteAllTextAsync(config, $"""
            primary_hostname = exim.test
            spool_directory = {prefix}/spool
            log_file_path = {prefix}/%slog
            pid_file_path = {pid}
            local_interfaces = 127.0.0.1
            daemon_smtp_ports = {port}
            tls_advertise_hosts = *
            keep_environment =
            {settings}

            """);
        ProgramResult result = await DaemonizeAsync(ExternalProgram.Find("exim4")!, $"-C '{config}' -bd", prefix);
        string log = Path.Combine(prefix, "mainlog");
        Assert.True(result.ExitCode == 0, $"exim did not start:\n{result}\n{(File.Exists(Path.Combine(prefix, "paniclog")) ? File.ReadAllText(Path.Combine(prefix, "paniclog")) : "")}");
        return await WaitForPidAsync(pid, log);
    }

    /// <summary>Gets the pid the server wrote to its pidfile (0 when it wrote none).</summary>
    public int Pid => File.Exists(_pidFile) && int.TryParse(File.ReadAllText(_pidFile).Trim(), out int pid) ? pid : 0;

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(_pidFile) && int.TryParse((await File.ReadAllTextAsync(_pidFile)).Trim(), out int pid))
        {
            await ExternalProgram.RunAsync("kill", ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)], timeout: TimeSpan.FromSeconds(10));
            await Signals.TryWaitAsync(() => !File.Exists($"/proc/{pid}")); // the process gone: a signal, not a time
        }
    }

    /// <summary>Runs a self-daemonizing server with its output in a file: a daemon holding our pipes would keep the run open.</summary>
    private static async Task<ProgramResult> DaemonizeAsync(string program, string arguments, string directory)
    {
        string output = Path.Combine(directory, "start.log");
        ProgramResult result = await ExternalProgram.RunAsync("sh", ["-c", $"'{program}' {arguments} >'{output}' 2>&1"], timeout: TimeSpan.FromSeconds(30));
        return result with { StandardError = result.StandardError + File.ReadAllText(output) };
    }

    private static async Task<ServerProcess> WaitForPidAsync(string pidFile, string logFile)
    {
        await Signals.TryWaitAsync(() => File.Exists(pidFile));
        Assert.True(File.Exists(pidFile), $"No pidfile {pidFile}");
        return new ServerProcess(pidFile, logFile);
    }
}
