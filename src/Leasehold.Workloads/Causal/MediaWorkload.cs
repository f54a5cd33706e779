using System.Text;
using Leasehold.Workloads.Generators;

namespace Leasehold.Workloads.Causal;

/// <summary>
/// CausalMesh's port of the DeathStarBench media service (workloads.md): compose uploads text,
/// rating, user and movie in parallel, a fan-in stores the review, then the user's and the movie's
/// review lists are updated in parallel (capped at 10, starting with 5); read follows a movie's list to
/// its reviews. The anomaly to detect is a dangling reference: an id in a list whose review cannot be
/// read. Under causal consistency none can occur (the list write depends on the review's); the
/// eventual control shows them.
/// </summary>
public sealed class MediaWorkload : ICausalWorkload
{
    public const string Compose = "media-compose";
    public const string Read = "media-read";
    public const string Uploads = "media.upload";
    public const string Reviews = "media.review";
    public const string UserLists = "media.user-reviews";
    public const string MovieLists = "media.movie-reviews";
    private const int Cap = 10, InitialEntries = 5;

    private readonly ZipfianGenerator _users, _movies;
    private long _nextReview;
    private long _reads, _followed, _dangling;

    /// <param name="consistency">Causal, or TransactionalCausal to run both workflows as read-write transactions</param>
    public MediaWorkload(int movies = 1_000, int users = 1_000, double theta = 0, Consistency consistency = Consistency.Causal)
    {
        if (consistency is not (Consistency.Causal or Consistency.TransactionalCausal)) throw new ArgumentOutOfRangeException(nameof(consistency), consistency, "a causal level");
        _consistency = consistency;
        if (movies < 1 || users < 1) throw new ArgumentOutOfRangeException(nameof(movies), "at least one movie and one user");
        Movies = movies;
        Users = users;
        _users = new ZipfianGenerator(users, theta);
        _movies = new ZipfianGenerator(movies, theta);
        Workflows = [ComposeWorkflow(), ReadWorkflow()];
    }

    public string Name => "media";
    public int Movies { get; }
    public int Users { get; }
    public IReadOnlyList<WorkflowDefinition> Workflows { get; }
    public long DanglingReferences => Interlocked.Read(ref _dangling);

    /// <summary>Every list starts with five reviews that exist from the start.</summary>
    public byte[]? Initial(StateKey key) => key.Table switch
    {
        MovieLists => List(Enumerable.Range(0, InitialEntries).Select(i => $"init-{key.Key}-{i}")),
        UserLists => List(Enumerable.Range(0, InitialEntries).Select(i => $"init-{key.Key}-{i}")),
        Reviews when key.Key.StartsWith("init-", StringComparison.Ordinal) => Encoding.UTF8.GetBytes($"initial review {key.Key}"),
        _ => null,
    };

    public (string Workflow, Args Args) Next(Random random)
    {
        if (random.Next(2) == 0) return (Read, Args.Create().Set("movie", $"m{_movies.Next(random)}").Build());
        long id = Interlocked.Increment(ref _nextReview);
        return (Compose, Args.Create()
            .Set("review", $"r{id}").Set("user", $"u{_users.Next(random)}").Set("movie", $"m{_movies.Next(random)}")
            .Set("rating", random.Next(11)).Set("text", $"review {id}: " + new string((char)('a' + random.Next(26)), 32))
            .Build());
    }

    public void Observe(string workflow, WorkflowStatus status, byte[]?[] outputs)
    {
        if (workflow != Read || status != WorkflowStatus.Committed) return;
        Interlocked.Increment(ref _reads);
        var found = Value.ToLong(outputs[1]);
        Interlocked.Add(ref _followed, found >> 32);
        Interlocked.Add(ref _dangling, found & 0xffff_ffff);
    }

    public InvariantResult Check()
    {
        long dangling = DanglingReferences;
        return new InvariantResult("no-dangling-reference", dangling == 0,
            $"{Interlocked.Read(ref _reads):N0} reads followed {Interlocked.Read(ref _followed):N0} review ids; {dangling:N0} pointed to a review that could not be read");
    }

    private readonly Consistency _consistency;

    private WorkflowDefinition ComposeWorkflow()
    {
        var b = new WorkflowBuilder(Compose).WithConsistency(_consistency);
        foreach (var part in new[] { "text", "rating", "user", "movie" })
        {
            string p = part;
            b.Function($"upload-{p}", f => f
                .Updates(Uploads, a => $"{a.GetString("review")}/{p}")
                .Body(ctx => ctx.Write(Uploads, $"{ctx.Args.GetString("review")}/{p}", Encoding.UTF8.GetBytes(ctx.Args.GetString(p)))));
        }
        b.Function("store", f =>
        {
            f.After("upload-text", "upload-rating", "upload-user", "upload-movie");
            foreach (var part in new[] { "text", "rating", "user", "movie" })
            {
                string p = part;
                f.Reads(Uploads, a => $"{a.GetString("review")}/{p}");
            }
            f.Updates(Reviews, a => a.GetString("review"));
            f.Body(ctx =>
            {
                string id = ctx.Args.GetString("review");
                string Part(string p) => ctx.Read(Uploads, $"{id}/{p}") is { } v ? Encoding.UTF8.GetString(v) : throw new InvalidOperationException($"the {p} upload of {id} is missing");
                ctx.Write(Reviews, id, Encoding.UTF8.GetBytes($"{Part("user")}|{Part("movie")}|{Part("rating")}|{Part("text")}"));
            });
        });
        foreach (var (name, table, param) in new[] { ("user-list", UserLists, "user"), ("movie-list", MovieLists, "movie") })
        {
            string t = table, p = param;
            b.Function(name, f => f
                .After("store")
                .Updates(t, a => a.GetString(p))
                .Body(ctx =>
                {
                    string owner = ctx.Args.GetString(p);
                    var ids = Ids(ctx.Read(t, owner));
                    ids.Add(ctx.Args.GetString("review"));
                    if (ids.Count > Cap) ids.RemoveRange(0, ids.Count - Cap);
                    ctx.Write(t, owner, List(ids));
                }));
        }
        return b.Build();
    }

    private WorkflowDefinition ReadWorkflow() => new WorkflowBuilder(Read).WithConsistency(_consistency)
        .Function("read-list", f => f.Reads(MovieLists, a => a.GetString("movie")).Body(ctx => ctx.Read(MovieLists, ctx.Args.GetString("movie"))))
        .Function("read-reviews", f => f
            .After("read-list")
            .ReadsAny(Reviews)
            .Body(ctx =>
            {
                long followed = 0, dangling = 0;
                foreach (var id in Ids(ctx.Parent("read-list")))
                {
                    followed++;
                    if (ctx.Read(Reviews, id) is null) dangling++;
                }
                return Value.FromLong((followed << 32) | dangling);
            }))
        .Build();

    private static List<string> Ids(byte[]? list) =>
        list is null || list.Length == 0 ? [] : [.. Encoding.UTF8.GetString(list).Split(',')];

    private static byte[] List(IEnumerable<string> ids) => Encoding.UTF8.GetBytes(string.Join(',', ids));
}
