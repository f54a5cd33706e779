// The banking workload on Orleans transactions: an in-process silo plus a closed loop of C requesters.
// Transfers take their locks in ascending account order (see Transfer). See docs/peers.md.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HdrHistogram;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Transactions;
using OrleansBank;

Options opt;
try { opt = Options.Parse(args); }
catch (UsageException e) { Console.Error.WriteLine($"orleans-bank: {e.Message}"); return 2; }
if (opt.Help) { Console.WriteLine(Options.Usage); return 0; }

var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Error);
builder.UseOrleans(silo =>
{
    silo.UseLocalhostClustering();
    silo.AddMemoryGrainStorage(AccountGrain.StorageName);
    silo.UseTransactions();
});
using var host = builder.Build();
await host.StartAsync();

Console.WriteLine($"orleans-bank: accounts={opt.Accounts} theta={opt.Theta} concurrency={opt.Concurrency} " +
                  $"duration={opt.Duration}s warmup={opt.Warmup}s seed={opt.Seed} " +
                  $"cores={Environment.ProcessorCount}");
var bench = new Bench(opt, host.Services.GetRequiredService<IGrainFactory>(),
                      host.Services.GetRequiredService<ITransactionClient>());
int activated = Math.Min(opt.Activate, opt.Accounts);
double activationSeconds = await bench.ActivateHottestAsync(activated);
Console.WriteLine($"orleans-bank: activated the {activated} hottest accounts in {activationSeconds:F1} s (before the warm-up)");
var r = await bench.RunAsync();
var check = await bench.CheckInvariantAsync(r);

double tps = r.Committed / r.MeasuredSeconds;
double Ms(long us) => Math.Round(us / 1000.0, 3);
var h = r.Latency;
var latency = h.TotalCount == 0 ? new { p50 = 0.0, p90 = 0.0, p99 = 0.0, max = 0.0 } : new
{
    p50 = Ms(h.GetValueAtPercentile(50)), p90 = Ms(h.GetValueAtPercentile(90)),
    p99 = Ms(h.GetValueAtPercentile(99)), max = Ms(h.GetMaxValue()),
};
var failedByType = r.FailedByType.OrderByDescending(kv => kv.Value).ToDictionary();
Console.WriteLine($"committed={r.Committed} aborted={r.Aborted} failed={r.Failed}" +
                  (failedByType.Count == 0 ? "" : " (" + string.Join(", ", failedByType.Select(kv => $"{kv.Key}={kv.Value}")) + ")"));
Console.WriteLine($"throughput={tps:F1} committed tx/s (over {r.MeasuredSeconds:F2} s)");
Console.WriteLine($"latency ms (all requests issued in the window): p50={latency.p50} p90={latency.p90} p99={latency.p99} max={latency.max}");
Console.WriteLine($"invariant: {(check.Ok ? "OK" : "VIOLATED")} ({check.Detail})");

if (opt.Json is not null)
{
    var doc = new
    {
        system = "orleans-transactions", workload = "banking", theta = opt.Theta, accounts = opt.Accounts,
        concurrency = opt.Concurrency, duration_s = opt.Duration, committed = r.Committed, aborted = r.Aborted,
        failed = r.Failed, throughput_tps = Math.Round(tps, 1),
        latency_ms = latency,
        invariant = new { ok = check.Ok, detail = check.Detail },
        failed_by_type = failedByType, warmup_s = opt.Warmup, activated, activation_s = Math.Round(activationSeconds, 1),
        measured_s = Math.Round(r.MeasuredSeconds, 3),
    };
    File.WriteAllText(opt.Json, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }) + "\n");
}

using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10))) await host.StopAsync(cts.Token);
return check.Ok ? 0 : 1;

namespace OrleansBank
{
    sealed class Bench(Options opt, IGrainFactory grains, ITransactionClient tx)
    {
        const long MaxLatencyUs = 120_000_000;
        readonly Zipf zipf = new(opt.Accounts, opt.Theta);
        readonly bool[] touched = new bool[opt.Accounts];
        long startTs, endTs;

        public sealed class Result
        {
            public long Committed, Aborted, Failed, CommittedDepositSum, InDoubt, LastCompletionTs;
            public LongHistogram Latency = new(1, MaxLatencyUs, 3);
            public Dictionary<string, long> FailedByType = [];
            public double MeasuredSeconds;

            public void Merge(Result o)
            {
                Committed += o.Committed; Aborted += o.Aborted; Failed += o.Failed;
                CommittedDepositSum += o.CommittedDepositSum; InDoubt += o.InDoubt;
                LastCompletionTs = Math.Max(LastCompletionTs, o.LastCompletionTs);
                Latency.Add(o.Latency);
                foreach (var (k, v) in o.FailedByType) FailedByType[k] = FailedByType.GetValueOrDefault(k) + v;
            }
        }

        /// <summary>
        /// Reads the <paramref name="count"/> hottest accounts (ids 0, 1, …: Zipf rank order) once, so that
        /// the measurement pays for fewer grain activations: the other systems start with every account
        /// loaded. All 100,000 take about a minute here, too long for each point of a sweep; the hottest
        /// 10,000 draw about 80 % of the accesses at θ 0.99. Returns the seconds it took.
        /// </summary>
        public async Task<double> ActivateHottestAsync(int count)
        {
            var sw = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 256 },
                async (id, _) => await Account(id).GetBalance());
            return sw.Elapsed.TotalSeconds;
        }

        public async Task<Result> RunAsync()
        {
            long now = Stopwatch.GetTimestamp();
            startTs = now + (long)(opt.Warmup * Stopwatch.Frequency);
            endTs = startTs + (long)(opt.Duration * Stopwatch.Frequency);
            var workers = Enumerable.Range(0, opt.Concurrency).Select(i => Task.Run(() => Worker(i)));
            var total = new Result();
            foreach (var w in await Task.WhenAll(workers)) total.Merge(w);
            // Measured span: window start until the last request issued in the window has finished.
            total.MeasuredSeconds = Math.Max(opt.Duration, (double)(total.LastCompletionTs - startTs) / Stopwatch.Frequency);
            return total;
        }

        async Task<Result> Worker(int id)
        {
            var rng = new Random(HashCode.Combine(opt.Seed, id));
            var res = new Result();
            while (true)
            {
                long t0 = Stopwatch.GetTimestamp();
                if (t0 >= endTs) return res;
                bool transfer = rng.Next(2) == 0;
                long amount = rng.Next(1, 101);
                int src = zipf.Next(rng), dst = src;
                while (transfer && dst == src) dst = zipf.Next(rng);
                touched[src] = touched[dst] = true;

                string? failure = null;
                bool committed = true;
                try
                {
                    if (transfer) committed = await Transfer(src, dst, amount);
                    else
                    {
                        await tx.RunTransaction(TransactionOption.Create, () => Account(src).Deposit(amount));
                        res.CommittedDepositSum += amount;
                    }
                }
                catch (Exception e)
                {
                    failure = e.GetType().Name;
                    if (e is OrleansTransactionInDoubtException) res.InDoubt++;
                }

                long t1 = Stopwatch.GetTimestamp();
                if (t0 < startTs) continue; // warm-up request
                res.LastCompletionTs = Math.Max(res.LastCompletionTs, t1);
                res.Latency.RecordValue(Math.Min(MaxLatencyUs, (t1 - t0) * 1_000_000 / Stopwatch.Frequency));
                if (failure is not null)
                {
                    res.Failed++;
                    res.FailedByType[failure] = res.FailedByType.GetValueOrDefault(failure) + 1;
                }
                else if (committed) res.Committed++;
                else res.Aborted++;
            }
        }

        /// <summary>One transaction; returns false when it was aborted for insufficient funds.</summary>
        async Task<bool> Transfer(int src, int dst, long amount)
        {
            bool ok = false;
            await tx.RunTransaction(TransactionOption.Create, async () =>
            {
                // Orleans has no deadlock detection: two transfers that lock A then B and B then A wait for
                // its fixed 10 s lock timeout. Touching the lower id first makes every transfer lock in one
                // order; a failed withdrawal still aborts the whole transaction, deposit included.
                if (dst < src)
                {
                    await Account(dst).Deposit(amount);
                    ok = await Account(src).TryWithdraw(amount);
                }
                else
                {
                    ok = await Account(src).TryWithdraw(amount);
                    if (ok) await Account(dst).Deposit(amount);
                }
                return ok; // false => the transaction is aborted, nothing is thrown
            });
            return ok;
        }

        IAccountGrain Account(int id) => grains.GetGrain<IAccountGrain>(id);

        /// <summary>Sum of all balances must equal the initial total plus all committed deposits.</summary>
        public async Task<(bool Ok, string Detail)> CheckInvariantAsync(Result r)
        {
            var ids = Enumerable.Range(0, opt.Accounts).Where(i => touched[i]).ToArray();
            long sum = 0, negative = 0;
            var sw = Stopwatch.StartNew();
            try
            {
                await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (id, _) =>
                {
                    long b = await Account(id).GetBalance();
                    Interlocked.Add(ref sum, b);
                    if (b < 0) Interlocked.Increment(ref negative);
                });
            }
            catch (Exception e) { return (false, $"reading balances failed: {e.GetType().Name}: {e.Message}"); }

            long total = sum + (opt.Accounts - ids.Length) * AccountState.InitialBalance;
            long expected = opt.Accounts * AccountState.InitialBalance + r.CommittedDepositSum;
            bool ok = total == expected && negative == 0;
            var detail = $"total={total} expected={expected} diff={total - expected} touched={ids.Length} " +
                         $"negative={negative} in_doubt={r.InDoubt} read_s={sw.Elapsed.TotalSeconds:F1}";
            return (ok, detail);
        }
    }

    /// <summary>Zipfian ids over [0, n) via an inverse CDF; rank 0 is the hottest. theta = 0 is uniform.</summary>
    sealed class Zipf
    {
        readonly int n;
        readonly double[]? cdf;

        public Zipf(int n, double theta)
        {
            this.n = n;
            if (theta == 0) return;
            cdf = new double[n];
            double acc = 0;
            for (int i = 0; i < n; i++) cdf[i] = acc += 1.0 / Math.Pow(i + 1, theta);
            for (int i = 0; i < n; i++) cdf[i] /= acc;
        }

        public int Next(Random rng)
        {
            if (cdf is null) return rng.Next(n);
            int i = Array.BinarySearch(cdf, rng.NextDouble());
            return Math.Min(i < 0 ? ~i : i, n - 1);
        }
    }

    sealed class UsageException(string message) : Exception(message);

    sealed class Options
    {
        public int Accounts = 100_000, Concurrency = 64, Seed = 42, Activate = 10_000;
        public double Theta = 0.99, Duration = 10, Warmup = 2;
        public string? Json;
        public bool Help;

        public const string Usage =
            "usage: orleans-bank [--accounts N] [--theta T] [--concurrency C] [--duration S] [--warmup S] [--seed N]" +
            " [--activate N] [--json FILE]";

        public static Options Parse(string[] args)
        {
            var o = new Options();
            for (int i = 0; i < args.Length; i++)
            {
                string flag = args[i];
                if (flag is "-h" or "--help") { o.Help = true; continue; }
                string? value = null;
                int eq = flag.IndexOf('=');
                if (flag.StartsWith("--") && eq > 0) (flag, value) = (flag[..eq], flag[(eq + 1)..]);
                string Value() => value ?? (i + 1 < args.Length ? args[++i] : throw new UsageException($"{flag} needs a value"));
                switch (flag)
                {
                    case "--accounts": o.Accounts = (int)Number(flag, Value(), 2, int.MaxValue, integer: true); break;
                    case "--theta": o.Theta = Number(flag, Value(), 0, 10); break;
                    case "--concurrency": o.Concurrency = (int)Number(flag, Value(), 1, 100_000, integer: true); break;
                    case "--duration": o.Duration = Number(flag, Value(), 0.001, 86_400); break;
                    case "--warmup": o.Warmup = Number(flag, Value(), 0, 86_400); break;
                    case "--activate": o.Activate = (int)Number(flag, Value(), 0, int.MaxValue, integer: true); break;
                    case "--seed": o.Seed = (int)Number(flag, Value(), int.MinValue, int.MaxValue, integer: true); break;
                    case "--json": o.Json = Value(); break;
                    default: throw new UsageException($"unknown argument '{flag}' ({Usage})");
                }
            }
            return o;
        }

        static double Number(string flag, string s, double min, double max, bool integer = false)
        {
            var style = integer ? NumberStyles.Integer : NumberStyles.Float;
            if (double.TryParse(s, style, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) && d >= min && d <= max)
                return d;
            throw new UsageException($"{flag}: '{s}' is not a{(integer ? "n integer" : " number")} in [{min}, {max}]");
        }
    }
}
