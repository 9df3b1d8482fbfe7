import { render } from 'preact';
import { App } from './ui/App';
import './styles.css';
import './prompts.css';
import './audit.css';
import './deck.css';
import './room.css';
import './groups.css';

const root = document.getElementById('app');
if (root) render(<App />, root);
