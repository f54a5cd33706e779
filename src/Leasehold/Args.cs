namespace Leasehold;

/// <summary>
/// The parameters of one request: a small, immutable map from name to a long, a string or bytes.
/// Key selectors are pure functions of these, so the driver knows a request's keys before it runs.
/// Bytes are copied in and out: the driver keeps a request's parameters (to admit it again after a
/// rollback) while a worker runs it, so an array anyone could change in place would be shared between nodes.
/// </summary>
public sealed class Args
{
    private readonly string[] _names;
    private readonly object[] _values;

    private Args(string[] names, object[] values)
    {
        _names = names;
        _values = values;
    }

    public static Args Empty { get; } = new([], []);

    public static ArgsBuilder Create() => new();

    public int Count => _names.Length;

    public string NameAt(int index) => _names[index];

    /// <summary>A long, a string or a copy of the bytes.</summary>
    public object ValueAt(int index) => _values[index] is byte[] b ? b.Clone() : _values[index];

    /// <summary>The value as stored, bytes uncopied: for the runtime's encoders and bounds, which only read it.</summary>
    internal object StoredValueAt(int index) => _values[index];

    public long GetLong(string name) => Get(name) switch
    {
        long l => l,
        var other => throw new ArgumentException($"parameter '{name}' is {other.GetType().Name}, not a long"),
    };

    public string GetString(string name) => Get(name) switch
    {
        string s => s,
        long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
        var other => throw new ArgumentException($"parameter '{name}' is {other.GetType().Name}, not a string"),
    };

    public byte[] GetBytes(string name) => Get(name) switch
    {
        byte[] b => (byte[])b.Clone(),
        var other => throw new ArgumentException($"parameter '{name}' is {other.GetType().Name}, not bytes"),
    };

    public bool Has(string name) => Array.IndexOf(_names, name) >= 0;

    private object Get(string name)
    {
        int i = Array.IndexOf(_names, name);
        if (i < 0) throw new KeyNotFoundException($"the request has no parameter '{name}'");
        return _values[i];
    }

    public override string ToString() =>
        "{" + string.Join(", ", _names.Select((n, i) => $"{n}={_values[i]}")) + "}";

    public sealed class ArgsBuilder
    {
        private readonly List<string> _names = new(4);
        private readonly List<object> _values = new(4);

        public ArgsBuilder Set(string name, long value) => Add(name, value);
        public ArgsBuilder Set(string name, string value) => Add(name, value);
        public ArgsBuilder Set(string name, byte[] value)
        {
            ArgumentNullException.ThrowIfNull(value);
            return Add(name, (byte[])value.Clone());
        }

        private ArgsBuilder Add(string name, object value)
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            if (_names.Contains(name)) throw new ArgumentException($"parameter '{name}' is set twice");
            _names.Add(name);
            _values.Add(value);
            return this;
        }

        public Args Build() => new([.. _names], [.. _values]);
    }
}
